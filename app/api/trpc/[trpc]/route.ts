import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { env } from "@/server/env";
import { withRequestLog } from "@/server/observability/http-log";
import { createClientRateLimiter } from "@/server/rate-limit";
import { appRouter } from "@/server/root";
import { createTRPCContext } from "@/server/trpc";

export const dynamic = "force-dynamic";

const limiter = createClientRateLimiter({
  perMinute: env().RATE_LIMIT_PER_MINUTE,
  trustProxyHops: env().TRUST_PROXY_HOPS,
  answers: "trpc",
});

/** Every answer is one viewer's data at one moment: no browser or proxy may keep it (errors included). */
function noStore(res: Response): Response {
  res.headers.set("cache-control", "no-store");
  return res;
}

const handler = withRequestLog(async (req) =>
  noStore(
    (await limiter.refuse(req)) ??
      (await fetchRequestHandler({
        endpoint: "/api/trpc",
        req,
        router: appRouter,
        // The page batches at most 10 calls; a bigger batch is a 400, not a burst of queries.
        maxBatchSize: 20,
        createContext: () => createTRPCContext(req.headers),
      })),
  ),
);

export { handler as GET, handler as POST };
