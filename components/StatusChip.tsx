"use client";

import { useNow, useTimeZone } from "./clock";
import type { Transport } from "./live-transport-state";
import { formatClock, formatDuration } from "./time";

export type PageStatus = "live" | "degraded" | "unavailable" | "unreachable" | "loading";

/** The whole page's state in one word: the worst of its panels; the app itself unreachable first. */
export function pageStatus(states: ReadonlyArray<string | undefined>): PageStatus {
  if (states.some((s) => s === "unreachable")) return "unreachable";
  if (states.some((s) => s === "error")) return "unavailable";
  if (states.some((s) => s === "degraded")) return "degraded";
  if (states.some((s) => s === undefined || s === "loading")) return "loading";
  return "live";
}

export const TRANSPORT_WORDS: Record<Transport, string> = {
  sse: "updates pushed by the server",
  polling: "updates fetched every 2 s",
  paused: "updates paused while the tab is hidden",
};

export interface ChipFacts {
  status: PageStatus;
  reconnecting: boolean;
  /** When the oldest data on screen was fetched (epoch ms). */
  dataAsOf: number | null;
  /** When the oldest stale panel's data was fetched (epoch ms). */
  staleAsOf: number | null;
  now: number;
  timeZone: string;
}

/** What the chip shows and says: its state (a class and data-state) and its words. */
export function chipWords(facts: ChipFacts): { state: string; words: string } {
  const { status, dataAsOf, staleAsOf, now, timeZone } = facts;
  if (status === "unreachable") {
    const asOf = dataAsOf !== null ? ` — data as of ${formatClock(dataAsOf, timeZone)}` : "";
    return { state: status, words: `App unreachable${asOf}` };
  }
  if (facts.reconnecting) return { state: "reconnecting", words: "Reconnecting…" };
  switch (status) {
    case "degraded":
      return {
        state: status,
        words: staleAsOf !== null ? `Cached · ${formatDuration(now - staleAsOf)} old` : "Cached",
      };
    case "live":
      return { state: status, words: "Live" };
    case "unavailable":
      return { state: status, words: "Unavailable" };
    case "loading":
      return { state: status, words: "Connecting…" };
  }
}

/**
 * The page's state at a glance: "Live", "Cached · 2 min old" (the oldest stale panel's age),
 * "Reconnecting…", "App unreachable — data as of …". Not a live region: its age ticks, and the
 * state announcer says the changes once.
 */
export function StatusChip({
  status,
  transport = "polling",
  reconnecting = false,
  dataAsOf = null,
  staleAsOf = null,
}: {
  status: PageStatus;
  transport?: Transport;
  reconnecting?: boolean;
  dataAsOf?: number | null;
  staleAsOf?: number | null;
}) {
  const now = useNow();
  const timeZone = useTimeZone();
  const { state, words } = chipWords({ status, reconnecting, dataAsOf, staleAsOf, now, timeZone });
  return (
    <span
      className={`chip chip-${state}`}
      data-testid="page-status"
      data-state={state}
      data-transport={transport}
      title={TRANSPORT_WORDS[transport]}
    >
      {words}
    </span>
  );
}
