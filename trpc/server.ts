import "server-only";
import { createHydrationHelpers } from "@trpc/react-query/rsc";
import { headers } from "next/headers";
import { cache } from "react";
import { createCaller, type AppRouter } from "@/server/root";
import { createTRPCContext } from "@/server/trpc";
import { createQueryClient } from "./query-client";

/** One QueryClient per server request, so prefetched data never crosses between users. */
const getQueryClient = cache(createQueryClient);
/**
 * One context per server request: the session cookie is opened once, however many procedures the
 * page prefetches and whatever else it asks of the viewer.
 */
export const requestContext = cache(async () => createTRPCContext(await headers()));
const caller = createCaller(requestContext);

/** Server-side caller with prefetch helpers, and the boundary that hands the data to the browser. */
export const { trpc: serverApi, HydrateClient } = createHydrationHelpers<AppRouter>(caller, getQueryClient);
