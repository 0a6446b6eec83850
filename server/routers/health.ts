import { createTRPCRouter, publicProcedure } from "../trpc";

export const healthRouter = createTRPCRouter({
  /** The same object as GET /api/health: answered from memory, never waits on QuestDB. */
  status: publicProcedure.query(({ ctx }) => ctx.questdb.health()),
});
