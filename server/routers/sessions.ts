import { z } from "zod";
import { activeSessionsQuery } from "../questdb/queries";
import { createTRPCRouter, publicProcedure } from "../trpc";

export const DEFAULT_SESSIONS_LIMIT = 100;

export const activeSessionsInput = z
  .object({ limit: z.number().int().min(1).max(500).optional() })
  .strict()
  .optional();

export const sessionsRouter = createTRPCRouter({
  active: publicProcedure.input(activeSessionsInput).query(({ ctx, input }) => {
    const limit = input?.limit ?? DEFAULT_SESSIONS_LIMIT;
    return ctx.questdb.run({
      operation: "sessions.active",
      action: "get active sessions",
      input: { limit },
      query: activeSessionsQuery(limit),
    });
  }),
});
