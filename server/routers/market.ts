import { z } from "zod";
import { CANDLES_LIMIT, CANDLE_INTERVALS } from "../../domain/market";
import { candlesQuery } from "../questdb/queries";
import { createTRPCRouter, operatorProcedure } from "../trpc";

export const candlesInput = z
  .object({
    symbol: z
      .string()
      .max(20, "at most 20 characters")
      .regex(/^[A-Z0-9]{1,8}-[A-Z0-9]{1,8}$/, "a symbol like BTC-USD (capital letters and digits, one dash)"),
    interval: z.enum(CANDLE_INTERVALS),
    limit: z.number().int().min(1).max(CANDLES_LIMIT.max).optional(),
  })
  .strict();

export const marketRouter = createTRPCRouter({
  candles: operatorProcedure.input(candlesInput).query(({ ctx, input }) => {
    const limit = input.limit ?? CANDLES_LIMIT.default;
    return ctx.questdb.run({
      operation: "market.candles",
      action: `get ${input.interval} candles for ${input.symbol}`,
      input: { symbol: input.symbol, interval: input.interval, limit },
      query: candlesQuery(input.symbol, input.interval, limit),
    });
  }),
});
