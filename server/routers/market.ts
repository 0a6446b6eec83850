import { tracked } from "@trpc/server";
import { z } from "zod";
import { CANDLES_LIMIT, CANDLE_INTERVALS } from "@/contract/market";
import { candlesQuery } from "@/server/questdb/queries";
import { createTRPCRouter, operatorProcedure, streamSignal } from "@/server/trpc";
import { lastEventId } from "./live-input";

const candlesShape = {
  symbol: z
    .string()
    .max(20, "at most 20 characters")
    .regex(/^[A-Z0-9]{1,8}-[A-Z0-9]{1,8}$/, "a symbol like BTC-USD (capital letters and digits, one dash)"),
  interval: z.enum(CANDLE_INTERVALS),
  limit: z.number().int().min(1).max(CANDLES_LIMIT.max).optional(),
};

export const candlesInput = z.object(candlesShape).strict();
export const candlesLiveInput = z.object({ ...candlesShape, lastEventId }).strict();

function candles(input: { symbol: string; interval: (typeof CANDLE_INTERVALS)[number]; limit?: number }) {
  const limit = input.limit ?? CANDLES_LIMIT.default;
  return {
    operation: "market.candles",
    action: `get ${input.interval} candles for ${input.symbol}`,
    input: { symbol: input.symbol, interval: input.interval, limit },
    query: candlesQuery(input.symbol, input.interval, limit),
  };
}

export const marketRouter = createTRPCRouter({
  candles: operatorProcedure.input(candlesInput).query(({ ctx, input }) => ctx.questdb.run(candles(input))),

  /** The same answers pushed as they change (server-sent events), one query loop for every viewer. */
  onCandles: operatorProcedure.input(candlesLiveInput).subscription(async function* ({ ctx, input, signal }) {
    for await (const event of ctx.questdb.live(candles(input), input.lastEventId, streamSignal(ctx, signal))) {
      yield tracked(event.id, event.answer);
    }
  }),
});
