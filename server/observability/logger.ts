import pino from "pino";

/**
 * Structured JSON logs, one event name per line (`event`, e.g. "questdb.query_failed").
 * The connection password is redacted twice over: by path here, and by the error describer
 * (server/questdb/errors.ts) before any text reaches a log.
 */

const usePretty = process.env.NODE_ENV === "development" && process.env.LOG_FORMAT !== "json";

export const REDACT_PATHS = [
  "password",
  "*.password",
  "connectionString",
  "*.connectionString",
  "config.password",
  "env.QUESTDB_URL",
];

/** A JSON logger in the house format; scripts (seed, feed, dev) name their own `service`. */
export function createLogger(service: string, defaultLevel = "info"): pino.Logger {
  return pino({
    level: process.env.LOG_LEVEL ?? defaultLevel,
    base: { service },
    messageKey: "message",
    redact: { paths: REDACT_PATHS, censor: "***" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    ...(usePretty
      ? {
          transport: {
            target: "pino-pretty",
            options: {
              colorize: true,
              messageKey: "message",
              singleLine: true,
              ignore: "pid,hostname,service",
              messageFormat: "{event}",
            },
          },
        }
      : {}),
  });
}

const globalForLogger = globalThis as unknown as { dashboardLogger?: pino.Logger };

/** One logger per process (Next.js dev reloads modules; the global keeps it single). */
export const logger: pino.Logger = (globalForLogger.dashboardLogger ??= createLogger(
  process.env.LOG_SERVICE ?? "dashboard",
));

export type Logger = pino.Logger;

/** Logs one event: `log.info("questdb.retry", { attempt, delay })` → {"event":"questdb.retry",...}. */
export function logEvent(
  log: pino.Logger,
  level: "debug" | "info" | "warn" | "error",
  event: string,
  fields: Record<string, unknown> = {},
): void {
  log[level]({ event, ...fields });
}
