import { InvalidEnvError, parseEnv } from "../server/env";
import { redactSecrets } from "../server/lib/redact";
import { createLogger } from "../server/observability/logger";
import { countActiveSessions } from "../demo/active-sessions";
import { seedDemoData } from "../demo/seed";
import { isMain } from "../harness/is-main";

/**
 * `npm run seed`: the schema and the demo data (demo/seed.ts) in the QuestDB at QUESTDB_URL /
 * QUESTDB_HTTP_URL, then one line saying what is there. Idempotent.
 */

async function main(): Promise<void> {
  const startedAt = Date.now();
  const log = createLogger("seed", "warn");
  const env = parseEnv();
  const result = await seedDemoData({ pgUrl: env.QUESTDB_URL, httpUrl: env.QUESTDB_HTTP_URL, log });
  const active = await countActiveSessions(env.QUESTDB_URL);
  console.log(
    `Seeded ${redactSecrets(env.QUESTDB_URL)} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s: ` +
      `trades ${result.trades} (+${result.createdTrades}), session_events ${result.sessionEvents} ` +
      `(+${result.createdSessionEvents}), ${active} active sessions`,
  );
}

if (isMain(typeof module === "undefined" ? undefined : module)) {
  main().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof InvalidEnvError) console.error(message);
    else console.error(`Seeding failed: ${message} (is QuestDB running? try \`npm run questdb -- start\`)`);
    process.exit(1);
  });
}
