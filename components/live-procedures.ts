"use client";

import type { SkipToken } from "@tanstack/react-query";
import type { inferRouterInputs } from "@trpc/server";
import type { Resilient } from "@/contract/answer";
import type { AppRouter, RouterOutputs } from "@/server/root";
import { api } from "@/trpc/react";
import type { SubscriptionStatus } from "./live-transport-state";
import type { PanelQuery } from "./ResilientPanel";

/**
 * The procedures a panel can follow live: a query to poll and the subscription that pushes the
 * same answers for the same input. useLiveAnswer decides which of the two runs; these bind them.
 */

export interface LiveProcedure<TInput, TData> {
  /** The query, polled every `refetchInterval` (false: not at all); the previous input's data as placeholder. */
  usePolled(input: TInput, refetchInterval: number | false): PanelQuery<TData>;
  /** The subscription, closed by skipToken; each pushed answer goes to `onAnswer`. */
  useStreamed(input: TInput | SkipToken, onAnswer: (answer: Resilient<TData>) => void): SubscriptionStatus;
  /** Where a pushed answer is written so that the query's readers find it. */
  useCacheWriter(): (input: TInput, answer: Resilient<TData>) => void;
}

type Inputs = inferRouterInputs<AppRouter>;
/** The data an answer carries when it carries some. */
type DataOf<TAnswer> = Extract<TAnswer, { status: "ok"; data: unknown }>["data"];

export const liveSessions: LiveProcedure<Inputs["sessions"]["active"], DataOf<RouterOutputs["sessions"]["active"]>> = {
  usePolled: (input, every) => api.sessions.active.useQuery(input, polledEvery(every)),
  useStreamed: (input, onAnswer) => api.sessions.onActive.useSubscription(input, pushedTo(onAnswer)).status,
  useCacheWriter: () => api.useUtils().sessions.active.setData,
};

export const liveCandles: LiveProcedure<Inputs["market"]["candles"], DataOf<RouterOutputs["market"]["candles"]>> = {
  usePolled: (input, every) => api.market.candles.useQuery(input, polledEvery(every)),
  useStreamed: (input, onAnswer) => api.market.onCandles.useSubscription(input, pushedTo(onAnswer)).status,
  useCacheWriter: () => api.useUtils().market.candles.setData,
};

/** Polled every `refetchInterval`; switching input keeps the old data, marked, until the new one arrives. */
function polledEvery(refetchInterval: number | false) {
  return { refetchInterval, placeholderData: <T>(previous: T | undefined) => previous };
}

/** A pushed event carries its answer beside its id (tRPC's tracked()). */
function pushedTo<TAnswer>(onAnswer: (answer: TAnswer) => void) {
  return { onData: (event: { data: TAnswer }) => onAnswer(event.data) };
}
