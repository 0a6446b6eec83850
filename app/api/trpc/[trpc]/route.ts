import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { env } from "@/server/env";
import { withRequestLog } from "@/server/observability/http-log";
import { createClientRateLimiter } from "@/server/rate-limit";
import { broadcastResponse, isAttachable } from "@/server/live/sse-broadcast";
import { takeNodeResponse } from "@/server/live/node-response";
import { subscriptionCall } from "@/server/live/subscription-request";
import { appRouter, createCaller } from "@/server/root";
import { SSE_PING_MS, SSE_RECONNECT_AFTER_INACTIVITY_MS, createTRPCContext } from "@/server/trpc";

export const dynamic = "force-dynamic";

const limiter = createClientRateLimiter({
  perMinute: env().RATE_LIMIT_PER_MINUTE,
  trustProxyHops: env().TRUST_PROXY_HOPS,
  answers: "trpc",
});

/**
 * Every answer is one viewer's data at one moment: no browser or proxy may keep it (errors included).
 * An event stream keeps `no-transform`: without it Next's compression gzips each stream on its own
 * (a zlib context and a compression of every frame per viewer) and holds back directly written frames.
 */
function noStore(res: Response): Response {
  const stream = res.headers.get("content-type")?.startsWith("text/event-stream");
  res.headers.set("cache-control", stream ? "no-store, no-transform" : "no-store");
  return res;
}

const ENDPOINT = "/api/trpc";

/**
 * A live subscription, answered with one shared frame per event (server/live/sse-broadcast.ts) in
 * tRPC's own SSE format; null leaves the request to tRPC — anything else, and a subscription the
 * procedure refuses (no session, bad input, a limit), so that the refusal is tRPC's own answer.
 */
async function broadcast(req: Request): Promise<Response | null> {
  const call = subscriptionCall(req, ENDPOINT);
  const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string } } | undefined>;
  if (!call || procedures[call.path]?._def.type !== "subscription") return null;
  const caller = createCaller(await createTRPCContext(req.headers), { signal: req.signal });
  const procedure = call.path.split(".").reduce<unknown>((at, key) => (at as Record<string, unknown>)[key], caller);
  const stream = await (procedure as (input: unknown) => Promise<unknown>)(call.input).catch(() => null);
  if (!isAttachable(stream)) return null;
  const client = { reconnectAfterInactivityMs: SSE_RECONNECT_AFTER_INACTIVITY_MS };
  // Node's response, where Next's server has one: frames are written to it directly (node-response.ts).
  return broadcastResponse(stream, { client, pingMs: SSE_PING_MS }, takeNodeResponse(req.headers));
}

const handler = withRequestLog(async (req) =>
  noStore(
    (await limiter.refuse(req)) ??
      (await broadcast(req)) ??
      (await fetchRequestHandler({
        endpoint: ENDPOINT,
        req,
        router: appRouter,
        // The page batches at most 10 calls; a bigger batch is a 400, not a burst of queries.
        maxBatchSize: 20,
        createContext: () => createTRPCContext(req.headers),
      })),
  ),
);

export { handler as GET, handler as POST };
