import { z } from "zod";
import { createTRPCRouter, operatorProcedure } from "@/server/trpc";

/** No input. Anything else (a field, a number, text that is not JSON) is a BAD_REQUEST naming it. */
export const healthStatusInput = z.object({}).strict().optional();

export const healthRouter = createTRPCRouter({
  /** The same object as GET /api/health: answered from memory, never waits on QuestDB. */
  status: operatorProcedure.input(healthStatusInput).query(({ ctx }) => ctx.questdb.health()),
  /** The last 15 minutes: breaker state changes, query latency p50/p95 per interval, outages with their cause. */
  timeline: operatorProcedure.input(healthStatusInput).query(({ ctx }) => ctx.questdb.timeline()),
});
