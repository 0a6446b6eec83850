import { z } from "zod";
import { SESSIONS_LIMIT } from "../../domain/market";
import { activeSessionsQuery } from "../questdb/queries";
import { createTRPCRouter, operatorProcedure } from "../trpc";

export const activeSessionsInput = z
  .object({ limit: z.number().int().min(1).max(SESSIONS_LIMIT.max).optional() })
  .strict()
  .optional();

export const sessionsRouter = createTRPCRouter({
  active: operatorProcedure.input(activeSessionsInput).query(({ ctx, input }) => {
    const limit = input?.limit ?? SESSIONS_LIMIT.default;
    return ctx.questdb.run({
      operation: "sessions.active",
      action: "get active sessions",
      input: { limit },
      query: activeSessionsQuery(limit),
    });
  }),
});
