/**
 * Runs once when the Next.js server starts: validate the configuration (a bad value stops the app
 * with one clear line), then open the QuestDB pool so its health check runs before the first
 * request. A missing QuestDB is not a configuration error: the app starts and answers `error`.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { env, InvalidEnvError } = await import("./server/env");
  try {
    env();
  } catch (error) {
    if (error instanceof InvalidEnvError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const { logger, logEvent } = await import("./server/observability/logger");
  process.on("unhandledRejection", (reason) => {
    logEvent(logger, "error", "process.unhandled_rejection", {
      error: reason instanceof Error ? reason.message || reason.name : String(reason) || "unknown reason",
    });
  });
  const { questdbService } = await import("./server/questdb/service");
  questdbService(env);
}
