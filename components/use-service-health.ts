"use client";

import { api } from "@/trpc/react";
import { pollEvery } from "./live-transport-state";
import { useTabTransport } from "./LiveTransportProvider";

/**
 * The health panel's two queries (the health object and its last 15 minutes): no subscription
 * pushes them, so they are polled while the tab is visible, whatever the data panels do.
 */
export function useServiceHealth() {
  const every = pollEvery(useTabTransport().transport);
  const health = api.health.status.useQuery(undefined, { placeholderData: keepPrevious, refetchInterval: every });
  const timeline = api.health.timeline.useQuery(undefined, { placeholderData: keepPrevious, refetchInterval: every });
  return { health, timeline };
}

/** Refreshed once a minute: a symbol's first trade is rare news, and the list is one cheap query. */
const SYMBOLS_REFRESH_MS = 60_000;

/**
 * The symbols QuestDB has trades for (`market.symbols`), for the chart's picker; kept data while
 * degraded, and none while nothing is known (the picker then offers the chart's own symbol).
 */
export function useKnownSymbols(): readonly string[] {
  const symbols = api.market.symbols.useQuery(undefined, {
    placeholderData: keepPrevious,
    refetchInterval: SYMBOLS_REFRESH_MS,
    staleTime: SYMBOLS_REFRESH_MS,
  });
  const answer = symbols.data;
  return answer && answer.status !== "error" ? answer.data : NONE;
}

const NONE: readonly string[] = [];

const keepPrevious = <T>(previous: T | undefined) => previous;
