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
  useStreamed(input: TInput | SkipToken, onAnswer: (answer: Resilient<TData>) => void): StreamReport;
  /** Where a pushed answer is written so that the query's readers find it. */
  useCacheWriter(): (input: TInput, answer: Resilient<TData>) => void;
}

/** A stream's status, and the server's words if it refused the stream for a limit (TOO_MANY_REQUESTS). */
export interface StreamReport {
  status: SubscriptionStatus;
  refusal: string | null;
}

type Inputs = inferRouterInputs<AppRouter>;
/** The data an answer carries when it carries some. */
type DataOf<TAnswer> = Extract<TAnswer, { status: "ok"; data: unknown }>["data"];

export const liveSessions: LiveProcedure<Inputs["sessions"]["active"], DataOf<RouterOutputs["sessions"]["active"]>> = {
  usePolled: (input, every) => api.sessions.active.useQuery(input, polledEvery(every)),
  useStreamed: (input, onAnswer) => reportOf(api.sessions.onActive.useSubscription(input, pushedTo(onAnswer))),
  useCacheWriter: () => api.useUtils().sessions.active.setData,
};

export const liveCandles: LiveProcedure<Inputs["market"]["candles"], DataOf<RouterOutputs["market"]["candles"]>> = {
  usePolled: (input, every) => api.market.candles.useQuery(input, polledEvery(every)),
  useStreamed: (input, onAnswer) => reportOf(api.market.onCandles.useSubscription(input, pushedTo(onAnswer))),
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

/** The subscription's status; a refusal when the server said TOO_MANY_REQUESTS (its stream limit). */
function reportOf(subscription: {
  status: SubscriptionStatus;
  error: { message: string; data?: { code?: string } | null } | null;
}): StreamReport {
  const { status, error } = subscription;
  return { status, refusal: error?.data?.code === "TOO_MANY_REQUESTS" ? error.message : null };
}
