import "server-only";
import { createHydrationHelpers } from "@trpc/react-query/rsc";
import { headers } from "next/headers";
import { cache } from "react";
import { createCaller, type AppRouter } from "@/server/root";
import { createTRPCContext } from "@/server/trpc";
import { createQueryClient } from "./query-client";

/** One QueryClient per server request, so prefetched data never crosses between users. */
const getQueryClient = cache(createQueryClient);
const caller = createCaller(async () => createTRPCContext(await headers()));

/** Server-side caller with prefetch helpers, and the boundary that hands the data to the browser. */
export const { trpc: serverApi, HydrateClient } = createHydrationHelpers<AppRouter>(caller, getQueryClient);
