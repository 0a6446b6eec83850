"use client";

import type { Transport } from "./live-transport-state";
import { formatClock } from "./time";

export type PageStatus = "live" | "degraded" | "unavailable" | "unreachable" | "loading";

const WORDS: Record<Exclude<PageStatus, "unreachable">, string> = {
  live: "Live",
  degraded: "Degraded — showing cached data",
  unavailable: "Unavailable",
  loading: "Connecting…",
};

/** The whole page's state in one word: the worst of its panels; the app itself unreachable first. */
export function pageStatus(states: ReadonlyArray<string | undefined>): PageStatus {
  if (states.some((s) => s === "unreachable")) return "unreachable";
  if (states.some((s) => s === "error")) return "unavailable";
  if (states.some((s) => s === "degraded")) return "degraded";
  if (states.some((s) => s === undefined || s === "loading")) return "loading";
  return "live";
}

const TRANSPORT_WORDS: Record<Transport, string> = {
  sse: "updates pushed by the server",
  polling: "updates fetched every 2 s",
  paused: "updates paused while the tab is hidden",
};

/**
 * The page's state in words: "Live", "Reconnecting…" while a live stream is re-established,
 * "App unreachable — data as of …" when the browser cannot reach the dashboard server.
 */
export function StatusChip({
  status,
  transport = "polling",
  reconnecting = false,
  dataAsOf = null,
}: {
  status: PageStatus;
  transport?: Transport;
  reconnecting?: boolean;
  /** When the oldest data on screen was fetched (epoch ms). */
  dataAsOf?: number | null;
}) {
  const state = status === "unreachable" ? status : reconnecting ? "reconnecting" : status;
  const words =
    state === "unreachable"
      ? `App unreachable${dataAsOf !== null ? ` — data as of ${formatClock(new Date(dataAsOf).toISOString())}` : ""}`
      : state === "reconnecting"
        ? "Reconnecting…"
        : WORDS[status as Exclude<PageStatus, "unreachable">];
  return (
    <span
      className={`chip chip-${state}`}
      role="status"
      aria-live="polite"
      data-testid="page-status"
      data-state={state}
      data-transport={transport}
      title={TRANSPORT_WORDS[transport]}
    >
      {words}
    </span>
  );
}
