import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { CANDLES_LIMIT, CANDLE_INTERVALS, SYMBOL_PATTERN } from "@/contract/market";
import type { QuestdbService } from "@/server/compose";
import { candlesQuery, symbolsQuery } from "@/server/questdb/queries";
import { createTRPCRouter, operatorProcedure, streamSignal } from "@/server/trpc";
import { lastEventId, liveAnswers, streamHolders } from "./live-input";

const candlesShape = {
  symbol: z
    .string()
    .max(20, "at most 20 characters")
    .regex(SYMBOL_PATTERN, "a symbol like BTC-USD (capital letters and digits, one dash)"),
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

const knownSymbols = () => ({
  operation: "market.symbols",
  action: "list the traded symbols",
  input: {},
  query: symbolsQuery(),
});

/**
 * A symbol must be one QuestDB has trades for (so no client makes a query loop per invented name).
 * With no list to be had (QuestDB down and nothing cached) the input's pattern alone decides: an
 * outage must not turn every candles call into a 400.
 */
async function requireKnownSymbol(questdb: QuestdbService, symbol: string): Promise<void> {
  const answer = await questdb.run(knownSymbols());
  if (answer.status === "error" || answer.data.includes(symbol)) return;
  const some = answer.data.slice(0, 10).join(", ") || "none yet";
  throw new TRPCError({
    code: "BAD_REQUEST",
    message: `Invalid input: symbol: "${symbol}" is not a symbol QuestDB has trades for (${some})`,
  });
}

export const marketRouter = createTRPCRouter({
  /** The symbols QuestDB has trades for (the page's selector; candles accept only these). */
  symbols: operatorProcedure.query(({ ctx }) => ctx.questdb.run(knownSymbols())),

  candles: operatorProcedure.input(candlesInput).query(async ({ ctx, input }) => {
    await requireKnownSymbol(ctx.questdb, input.symbol);
    return ctx.questdb.run(candles(input));
  }),

  /** The same answers pushed as they change (server-sent events), one query loop for every viewer. */
  onCandles: operatorProcedure.input(candlesLiveInput).subscription(async ({ ctx, input, signal }) => {
    await requireKnownSymbol(ctx.questdb, input.symbol);
    const stream = streamSignal(ctx, signal);
    return liveAnswers(() => ctx.questdb.live(candles(input), input.lastEventId, stream, streamHolders(ctx)));
  }),
});
