import { InvalidEnvError, parseEnv } from "../server/env";
import { createLogger, logEvent } from "../server/observability/logger";
import { describeError } from "../demo/describe-error";
import { startLiveFeed } from "../demo/live-feed/live-feed";
import { isMain } from "../harness/is-main";

/**
 * `npm run feed`: the live demo feed (demo/live-feed/) into the QuestDB at QUESTDB_HTTP_URL,
 * until Ctrl-C or SIGTERM. `npm run dev` runs the same feed in its own process.
 */

if (isMain(typeof module === "undefined" ? undefined : module)) {
  const log = createLogger("feed");
  let env: ReturnType<typeof parseEnv>;
  try {
    env = parseEnv();
  } catch (error) {
    console.error(error instanceof InvalidEnvError ? error.message : describeError(error));
    process.exit(1);
  }
  process.on("unhandledRejection", (reason) => {
    logEvent(log, "error", "feed.unhandled_rejection", { error: describeError(reason) });
  });
  const feed = startLiveFeed({ httpUrl: env.QUESTDB_HTTP_URL, log });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void feed.stop().then(() => process.exit(0));
    });
  }
}
