import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

/**
 * Per-client rate limiting of /api/trpc (rate-limiter-flexible, in memory), so one noisy client
 * cannot fill the queue or flood the cache for everyone. Each procedure in a batch costs one point.
 * Over the limit: HTTP 429 with Retry-After and a tRPC-shaped error naming the limit.
 *
 * The client is the last address in X-Forwarded-For: the hop nearest the app. Behind a proxy that
 * appends to it (nginx `$proxy_add_x_forwarded_for`, HAProxy `option forwardfor`) that is the
 * client the proxy saw; exposed directly, Next.js fills the header from the socket when the
 * client sent none.
 */

export interface ClientRateLimiter {
  /** A 429 response when `req`'s client is over its limit, else null (and the points are spent). */
  refuse(req: Request): Promise<Response | null>;
}

export function clientOf(req: Request): string {
  const forwarded = req.headers.get("x-forwarded-for");
  const last = forwarded?.split(",").pop()?.trim();
  return last || req.headers.get("x-real-ip") || "unknown";
}

/** How many procedures a tRPC request calls: `/api/trpc/a,b,c` is three. */
export function proceduresIn(req: Request): string[] {
  const path = new URL(req.url).pathname.replace(/^\/api\/trpc\/?/, "");
  return path ? decodeURIComponent(path).split(",") : [];
}

export function createClientRateLimiter(perMinute: number): ClientRateLimiter {
  if (perMinute === 0) return { refuse: async () => null };
  const limiter = new RateLimiterMemory({ points: perMinute, duration: 60 });
  return {
    async refuse(req) {
      const procedures = proceduresIn(req);
      try {
        await limiter.consume(clientOf(req), Math.max(1, procedures.length));
        return null;
      } catch (refusal) {
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        const retryAfter = Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
        const message =
          `Too many requests from this client: at most ${perMinute} calls a minute; ` + `try again in ${retryAfter} s`;
        const error = (path: string) => ({
          error: { message, code: -32029, data: { code: "TOO_MANY_REQUESTS", httpStatus: 429, path } },
        });
        const batched = new URL(req.url).searchParams.get("batch") === "1";
        const body = batched ? procedures.map(error) : error(procedures[0] ?? "");
        return Response.json(body, { status: 429, headers: { "Retry-After": String(retryAfter) } });
      }
    },
  };
}
