"use client";

import { createContext, type ReactNode, useContext, useSyncExternalStore } from "react";
import { DEFAULT_TIME_ZONE } from "./time";

/**
 * The page's clock and time zone, the same on the server and at hydration: the server renders at
 * `renderedAt` in UTC, the browser hydrates with that same instant and zone (React's server
 * snapshot), then ticks and switches to the operator's choice. So no hydration mismatch exists
 * to suppress, and a fresh load shows the times a running tab shows.
 */

const RenderedAt = createContext<number>(0);

export function ClockProvider({ renderedAt, children }: { renderedAt: number; children: ReactNode }) {
  return <RenderedAt.Provider value={renderedAt}>{children}</RenderedAt.Provider>;
}

// One ticking clock for the whole tab, however many components read it.
let tick = 0;
const tickListeners = new Set<() => void>();
let ticker: ReturnType<typeof setInterval> | undefined;

function subscribeToTicks(listener: () => void): () => void {
  tickListeners.add(listener);
  tick = Date.now();
  ticker ??= setInterval(() => {
    tick = Date.now();
    for (const notify of tickListeners) notify();
  }, 1000);
  return () => {
    tickListeners.delete(listener);
    if (tickListeners.size === 0 && ticker) {
      clearInterval(ticker);
      ticker = undefined;
    }
  };
}

/** The current time (epoch ms), once a second; the server's render time while hydrating. */
export function useNow(): number {
  const renderedAt = useContext(RenderedAt);
  return useSyncExternalStore(
    subscribeToTicks,
    () => tick || Date.now(),
    () => renderedAt,
  );
}

/** Which zone the operator reads times in, kept in localStorage. */
export type TimeZoneChoice = "utc" | "local";

const CHOICE_KEY = "dashboard.timeZone";
const choiceListeners = new Set<() => void>();

function subscribeToChoice(listener: () => void): () => void {
  choiceListeners.add(listener);
  // Another tab of the same operator changed it.
  window.addEventListener("storage", listener);
  return () => {
    choiceListeners.delete(listener);
    window.removeEventListener("storage", listener);
  };
}

/** The choice this tab made when storage refused to keep it (private mode, a policy). */
let unstoredChoice: TimeZoneChoice | null = null;

function readChoice(): TimeZoneChoice {
  if (unstoredChoice) return unstoredChoice;
  try {
    return window.localStorage.getItem(CHOICE_KEY) === "local" ? "local" : "utc";
  } catch {
    return "utc";
  }
}

export function setTimeZoneChoice(choice: TimeZoneChoice): void {
  try {
    window.localStorage.setItem(CHOICE_KEY, choice);
    unstoredChoice = null;
  } catch {
    unstoredChoice = choice;
  }
  for (const notify of choiceListeners) notify();
}

export function useTimeZoneChoice(): TimeZoneChoice {
  return useSyncExternalStore(subscribeToChoice, readChoice, () => "utc");
}

/** The IANA zone every time is shown in: UTC, or the browser's own when the operator chose local. */
export function useTimeZone(): string {
  const choice = useTimeZoneChoice();
  if (choice === "utc" || typeof Intl === "undefined") return DEFAULT_TIME_ZONE;
  return Intl.DateTimeFormat().resolvedOptions().timeZone || DEFAULT_TIME_ZONE;
}
