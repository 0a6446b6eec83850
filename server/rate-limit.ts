import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { MALFORMED_PATH_HEADER, clientAddress } from "@/server/auth/client-address";

/**
 * Per-client rate limiting of the API (rate-limiter-flexible, in memory), so one noisy client
 * cannot fill the queue or flood the cache for everyone. On /api/trpc each procedure in a batch
 * costs one point; /api/health and /api/metrics cost one each, in a budget of their own. Over the
 * limit: HTTP 429 with Retry-After and an error naming the limit (tRPC-shaped on /api/trpc).
 *
 * The client is who server/auth/client-address.ts says (the socket, or TRUST_PROXY_HOPS into
 * X-Forwarded-For). A tRPC path that cannot be read (a broken % escape) spends its point first and is
 * a 400 after that: never an unthrottled 500.
 */

export interface ClientRateLimiter {
  /**
   * A 429 when `req`'s client is over its limit, a 400 when its tRPC path cannot be read (the point
   * is spent either way), else null (and the points are spent).
   */
  refuse(req: Request): Promise<Response | null>;
}

export interface RateLimitOptions {
  perMinute: number;
  trustProxyHops: number;
  /** "trpc": points per procedure and tRPC-shaped errors; "json": one point and `{ error }`. */
  answers: "trpc" | "json";
}

const NO_STORE = { "cache-control": "no-store" };

/** The procedures a tRPC request calls (`/api/trpc/a,b,c` is three); null when its path cannot be decoded. */
export function proceduresIn(req: Request): string[] | null {
  if (req.headers.get(MALFORMED_PATH_HEADER) === "1") return null;
  const path = new URL(req.url).pathname.replace(/^\/api\/trpc\/?/, "");
  try {
    return path ? decodeURIComponent(path).split(",") : [];
  } catch {
    return null;
  }
}

/** tRPC's JSON-RPC numbers for the two errors the limiter gives. */
const JSON_RPC_CODES = { TOO_MANY_REQUESTS: -32029, BAD_REQUEST: -32600 } as const;

/** A tRPC-shaped error for each procedure (one, unbatched), as tRPC itself answers. */
function trpcErrors(
  req: Request,
  procedures: string[],
  message: string,
  code: keyof typeof JSON_RPC_CODES,
  httpStatus: number,
): unknown {
  const error = (path: string) => ({
    error: { message, code: JSON_RPC_CODES[code], data: { code, httpStatus, path } },
  });
  const batched = new URL(req.url).searchParams.get("batch") === "1";
  return batched && procedures.length > 0 ? procedures.map(error) : error(procedures[0] ?? "");
}

function malformedPath(req: Request, answers: RateLimitOptions["answers"]): Response {
  const message = "Bad request: the path is not valid URL encoding (a % not followed by two hex digits)";
  const body = answers === "trpc" ? trpcErrors(req, [], message, "BAD_REQUEST", 400) : { error: message };
  return Response.json(body, { status: 400, headers: NO_STORE });
}

/** The limiter of a plain JSON route (health, metrics): a budget of its own per client, from the configuration. */
export function createRouteLimiter(config: { RATE_LIMIT_PER_MINUTE: number; TRUST_PROXY_HOPS: number }) {
  return createClientRateLimiter({
    perMinute: config.RATE_LIMIT_PER_MINUTE,
    trustProxyHops: config.TRUST_PROXY_HOPS,
    answers: "json",
  });
}

export function createClientRateLimiter({ perMinute, trustProxyHops, answers }: RateLimitOptions): ClientRateLimiter {
  const limiter = perMinute === 0 ? null : new RateLimiterMemory({ points: perMinute, duration: 60 });
  return {
    async refuse(req) {
      const procedures = answers === "trpc" ? proceduresIn(req) : [];
      try {
        await limiter?.consume(clientAddress(req.headers, trustProxyHops), Math.max(1, procedures?.length ?? 1));
      } catch (refusal) {
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        const retryAfter = Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
        const message =
          `Too many requests from this client: at most ${perMinute} calls a minute; ` + `try again in ${retryAfter} s`;
        const body =
          answers === "trpc"
            ? trpcErrors(req, procedures ?? [], message, "TOO_MANY_REQUESTS", 429)
            : { error: message };
        return Response.json(body, { status: 429, headers: { ...NO_STORE, "Retry-After": String(retryAfter) } });
      }
      return procedures === null ? malformedPath(req, answers) : null;
    },
  };
}
