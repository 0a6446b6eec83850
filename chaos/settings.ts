import path from "node:path";

/** The soak's fixed numbers and places, in one file so a reader sees them together. */

export const ROOT = path.resolve(__dirname, "..");
export const DEFAULT_RESULT_FILE = path.join(ROOT, "bench", "results", "chaos.json");
/** Where the app's log is kept when a check fails (test-results/ is ignored by git). */
export const FAILED_LOG_FILE = path.join(ROOT, "test-results", "chaos-app.log");

export const INTERVAL_MS: readonly [number, number] = [3_000, 15_000];
export const RECOVERY_LIMIT_MS = 5_000;
export const RECOVERY_WAIT_MS = 20_000;
/** Down time of the final kill before the last restart. */
export const FINAL_DOWN_MS = 3_000;
/** A request that takes longer than this is a hang. */
export const REQUEST_TIMEOUT_MS = 15_000;
export const CONNECTION_SAMPLE_MS = 200;
export const RSS_SAMPLE_MS = 1_000;
/** The V8 heap (from the app's /api/metrics): its floor tells retained memory from GC slack. */
export const HEAP_SAMPLE_MS = 2_000;

/** The soak's app configuration: a short breaker recovery and a fast health check. */
export const APP_ENV = {
  // The soak measures outages, not sign-in: the e2e suite runs signed in through a real provider.
  AUTH_MODE: "none",
  QUESTDB_BREAKER_RECOVERY_MS: "5000",
  QUESTDB_HEALTH_INTERVAL_MS: "500",
  // The soak's clients share one address and are far busier than any viewer: no per-client limit.
  RATE_LIMIT_PER_MINUTE: "0",
  LOG_LEVEL: "info",
};

/** The chaos report notes when the clients have had this many distinct inputs answered ok. */
export const DISTINCT_INPUTS_NOTED = 1000;
