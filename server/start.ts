import { env, exitOnInvalidEnv, requireAuthModeChosen } from "./env";
import { logEvent, logger } from "./observability/logger";
import { questdbService } from "./compose";
import { DataDirLockedError } from "./last-known-good/data-dir-lock";

/**
 * Server start-up (Node.js runtime only): validate the configuration — a bad value or an unchosen
 * AUTH_MODE stops the app with one clear line — then open the QuestDB pool so its health check runs before the first
 * request. A missing QuestDB is not a configuration error: the app starts and answers `error`.
 */
export function startServer(): void {
  // Production (`next start`, also without `npm start`'s check) insists on a chosen AUTH_MODE.
  exitOnInvalidEnv(() => (process.env.NODE_ENV === "production" ? requireAuthModeChosen(env()) : env()));
  process.on("unhandledRejection", (reason) => {
    logEvent(logger, "error", "process.unhandled_rejection", {
      error: reason instanceof Error ? reason.message || reason.name : String(reason) || "unknown reason",
    });
  });
  try {
    questdbService(env);
  } catch (error) {
    // Another process holds DASHBOARD_DATA_DIR: one line naming the directory and the holder, then stop.
    if (!(error instanceof DataDirLockedError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
