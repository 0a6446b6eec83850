"use client";

import { useEffect, useRef, useState } from "react";

/**
 * How this tab gets its updates: pushed (server-sent events), polled, or not at all while hidden.
 *
 * A browser opens at most six HTTP/1.1 connections per origin, and every SSE stream holds one
 * (tRPC issue 6659: tabs freezing). So at most STREAMING_TABS visible tabs stream — a slot is a
 * Web Lock shared by the tabs of this browser — and the others poll, which holds a connection
 * only for the moment of a request. A hidden tab does neither; it catches up when shown.
 */

export type Transport = "sse" | "polling" | "paused";

/** Two streaming tabs × two streams each leave two of the six connections for requests. */
export const STREAMING_TABS = 2;
/** A stream that has not become live for this long has failed (a buffering proxy, a dead app)… */
export const SSE_GIVE_UP_AFTER_MS = 15_000;
/** …and the tab polls for this long before it tries to stream again. */
export const SSE_RETRY_AFTER_MS = 60_000;

/** Whether the page is visible (true on the server and where the API is missing). */
export function usePageVisible(): boolean {
  const [visible, setVisible] = useState(true);
  useEffect(() => {
    const update = () => setVisible(document.visibilityState !== "hidden");
    update();
    document.addEventListener("visibilitychange", update);
    return () => document.removeEventListener("visibilitychange", update);
  }, []);
  return visible;
}

/**
 * Holds one of the browser's STREAMING_TABS stream slots while `wanted`: true once held. A tab
 * that finds none free waits for one (a streaming tab closed or hidden) and polls meanwhile.
 */
export function useStreamSlot(wanted: boolean): boolean {
  const [held, setHeld] = useState(false);
  useEffect(() => {
    if (!wanted) return;
    const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
    if (!locks) {
      setHeld(true);
      return () => setHeld(false);
    }
    const stop = new AbortController();
    let release: () => void = () => undefined;
    const hold = () => {
      setHeld(true);
      return new Promise<void>((resolve) => (release = resolve));
    };
    void (async () => {
      for (let slot = 0; slot < STREAMING_TABS && !stop.signal.aborted; slot++) {
        let got = false;
        await locks.request(`dashboard-stream-${slot}`, { ifAvailable: true }, (lock) => {
          if (!lock || stop.signal.aborted) return;
          got = true;
          return hold();
        });
        if (got) return;
      }
      // All taken: queue for one of them; the request is dropped when this tab stops wanting it.
      const slot = Math.floor(Math.random() * STREAMING_TABS);
      await locks
        .request(`dashboard-stream-${slot}`, { signal: stop.signal }, () => (stop.signal.aborted ? undefined : hold()))
        .catch(() => undefined);
    })();
    return () => {
      stop.abort();
      release();
      setHeld(false);
    };
  }, [wanted]);
  return held;
}

/** tRPC's useSubscription status: "pending" means connected and waiting for data. */
export type SubscriptionStatus = "idle" | "connecting" | "pending" | "error";

/**
 * This tab's transport. `statuses` are its subscriptions' states: when they keep failing to
 * become live (SSE_GIVE_UP_AFTER_MS), the tab polls for SSE_RETRY_AFTER_MS, then tries again.
 */
export function useLiveTransport(statuses: readonly SubscriptionStatus[]): {
  transport: Transport;
  reconnecting: boolean;
} {
  const visible = usePageVisible();
  const [blockedUntil, setBlockedUntil] = useState(0);
  const blocked = blockedUntil > 0;
  const slot = useStreamSlot(visible && !blocked && typeof EventSource !== "undefined");
  const transport: Transport = !visible ? "paused" : slot && !blocked ? "sse" : "polling";

  const live = statuses.length > 0 && statuses.every((status) => status === "pending");
  const wasLive = useRef(false);
  const failingSince = useRef<number | null>(null);
  if (transport !== "sse") {
    wasLive.current = false;
    failingSince.current = null;
  } else if (live) {
    wasLive.current = true;
    failingSince.current = null;
  } else {
    failingSince.current ??= Date.now();
  }
  const reconnecting = transport === "sse" && !live && wasLive.current;

  useEffect(() => {
    if (transport !== "sse" || live) return;
    const since = failingSince.current ?? Date.now();
    const timer = setTimeout(
      () => setBlockedUntil(Date.now() + SSE_RETRY_AFTER_MS),
      Math.max(0, since + SSE_GIVE_UP_AFTER_MS - Date.now()),
    );
    return () => clearTimeout(timer);
  }, [transport, live]);

  useEffect(() => {
    if (!blocked) return;
    const timer = setTimeout(() => setBlockedUntil(0), Math.max(0, blockedUntil - Date.now()));
    return () => clearTimeout(timer);
  }, [blocked, blockedUntil]);

  return { transport, reconnecting };
}
