"use client";

export type PageStatus = "live" | "degraded" | "unavailable" | "loading";

const WORDS: Record<PageStatus, string> = {
  live: "Live",
  degraded: "Degraded — showing cached data",
  unavailable: "Unavailable",
  loading: "Connecting…",
};

/** The whole page's state in one word: the worst of its panels. */
export function pageStatus(states: ReadonlyArray<string | undefined>): PageStatus {
  if (states.some((s) => s === "error" || s === "unreachable")) return "unavailable";
  if (states.some((s) => s === "degraded")) return "degraded";
  if (states.some((s) => s === undefined || s === "loading")) return "loading";
  return "live";
}

export function StatusChip({ status }: { status: PageStatus }) {
  return (
    <span className={`chip chip-${status}`} role="status" aria-live="polite" data-testid="page-status" data-state={status}>
      {WORDS[status]}
    </span>
  );
}
