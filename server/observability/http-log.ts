import { logEvent, logger } from "./logger";

type Handler = (req: Request) => Response | Promise<Response>;

/** Wraps a route handler so every request logs one `http.request` line: method, path, status, duration. */
export function withRequestLog(handler: Handler): Handler {
  return async (req) => {
    const started = performance.now();
    const path = new URL(req.url).pathname;
    let status = 500;
    try {
      const res = await handler(req);
      status = res.status;
      return res;
    } finally {
      logEvent(logger, status >= 500 ? "error" : "info", "http.request", {
        method: req.method,
        path,
        status,
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
      });
    }
  };
}
