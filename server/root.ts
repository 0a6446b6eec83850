import type { inferRouterOutputs } from "@trpc/server";
import { healthRouter } from "./routers/health";
import { marketRouter } from "./routers/market";
import { sessionsRouter } from "./routers/sessions";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  sessions: sessionsRouter,
  market: marketRouter,
  health: healthRouter,
});

export type AppRouter = typeof appRouter;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export const createCaller = createCallerFactory(appRouter);
