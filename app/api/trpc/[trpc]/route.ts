import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { env } from "@/server/env";
import { withRequestLog } from "@/server/observability/http-log";
import { createClientRateLimiter } from "@/server/rate-limit";
import { appRouter } from "@/server/root";
import { createTRPCContext } from "@/server/trpc";

export const dynamic = "force-dynamic";

const limiter = createClientRateLimiter(env().RATE_LIMIT_PER_MINUTE);

const handler = withRequestLog(
  async (req) =>
    (await limiter.refuse(req)) ??
    fetchRequestHandler({
      endpoint: "/api/trpc",
      req,
      router: appRouter,
      // The page batches at most 10 calls; a bigger batch is a 400, not a burst of queries.
      maxBatchSize: 20,
      createContext: () => createTRPCContext(req.headers),
    }),
);

export { handler as GET, handler as POST };
