import { z } from "zod";
import { SESSIONS_LIMIT } from "@/contract/market";
import { activeSessionsQuery } from "@/server/questdb/queries";
import { createTRPCRouter, operatorProcedure, streamSignal } from "@/server/trpc";
import { lastEventId, liveAnswers, streamHolders } from "./live-input";

const limitField = z.number().int().min(1).max(SESSIONS_LIMIT.max).optional();

export const activeSessionsInput = z.object({ limit: limitField }).strict().optional();
export const activeSessionsLiveInput = z.object({ limit: limitField, lastEventId }).strict().optional();

function activeSessions(limit: number = SESSIONS_LIMIT.default) {
  return {
    operation: "sessions.active",
    action: "get active sessions",
    input: { limit },
    query: activeSessionsQuery(limit),
  };
}

export const sessionsRouter = createTRPCRouter({
  active: operatorProcedure
    .input(activeSessionsInput)
    .query(({ ctx, input }) => ctx.questdb.run(activeSessions(input?.limit))),

  /** The same answers pushed as they change (server-sent events), one query loop for every viewer. */
  onActive: operatorProcedure
    .input(activeSessionsLiveInput)
    .subscription(({ ctx, input, signal }) =>
      liveAnswers(() =>
        ctx.questdb.live(
          activeSessions(input?.limit),
          input?.lastEventId,
          streamSignal(ctx, signal),
          streamHolders(ctx),
        ),
      ),
    ),
});
