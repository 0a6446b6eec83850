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

const keepPrevious = <T>(previous: T | undefined) => previous;
