"use client";

import { type Dispatch, useEffect, useReducer } from "react";
import {
  INITIAL_LIVE_TRANSPORT,
  isReconnecting,
  lifecycleTimer,
  type LiveTransportEvent,
  liveTransportReducer,
  type StreamLifecycle,
  type Transport,
  transportOf,
  wantsStreamSlot,
} from "./live-transport-state";

/**
 * How this tab gets its updates: pushed (server-sent events), polled, or not at all while hidden.
 *
 * A browser opens at most six HTTP/1.1 connections per origin, and every SSE stream holds one
 * (tRPC issue 6659: tabs freezing). So at most STREAMING_TABS visible tabs stream — a slot is a
 * Web Lock shared by the tabs of this browser — and the others poll, which holds a connection
 * only for the moment of a request. A hidden tab does neither; it catches up when shown.
 *
 * The hooks here only listen (visibility, Web Locks, timers) and dispatch what they hear to the
 * reducer in live-transport-state.ts, which decides.
 */

/** Two streaming tabs × two streams each leave two of the six connections for requests. */
export const STREAMING_TABS = 2;

export interface LiveTransport {
  transport: Transport;
  /** The streams had been live and are being re-established. */
  reconnecting: boolean;
  /** The server's words when it refused this tab a stream (too many open from this client); it polls meanwhile. */
  refusal: string | null;
  /** Where panels report their streams' statuses. */
  dispatch: Dispatch<LiveTransportEvent>;
}

/** This tab's transport, from the events of the page's visibility, its stream slot, its streams and timers. */
export function useLiveTransport(): LiveTransport {
  const [state, dispatch] = useReducer(liveTransportReducer, INITIAL_LIVE_TRANSPORT);
  usePageVisibility(dispatch);
  useStreamSlot(wantsStreamSlot(state) && typeof EventSource !== "undefined", dispatch);
  useLifecycleTimer(state.lifecycle, dispatch);
  return { transport: transportOf(state), reconnecting: isReconnecting(state), refusal: state.refusal, dispatch };
}

/** Tells whether the page is visible, now and on every change. */
function usePageVisibility(dispatch: Dispatch<LiveTransportEvent>): void {
  useEffect(() => {
    const update = () => dispatch({ type: "visibility-changed", visible: document.visibilityState !== "hidden" });
    update();
    document.addEventListener("visibilitychange", update);
    return () => document.removeEventListener("visibilitychange", update);
  }, [dispatch]);
}

/**
 * Holds one of the browser's STREAMING_TABS stream slots while `wanted`, and says when it is held
 * and let go. A tab that finds none free waits for one (a streaming tab closed or hidden).
 */
function useStreamSlot(wanted: boolean, dispatch: Dispatch<LiveTransportEvent>): void {
  useEffect(() => {
    if (!wanted) return;
    const held = () => dispatch({ type: "slot-held", at: Date.now() });
    const lost = () => dispatch({ type: "slot-lost" });
    const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
    if (!locks) {
      held();
      return lost;
    }
    const stop = new AbortController();
    let release: () => void = () => undefined;
    const hold = () => {
      held();
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
      lost();
    };
  }, [wanted, dispatch]);
}

/** Streams not live in time give up (SSE_GIVE_UP_AFTER_MS); a back-off ends (SSE_RETRY_AFTER_MS). */
function useLifecycleTimer(lifecycle: StreamLifecycle, dispatch: Dispatch<LiveTransportEvent>): void {
  useEffect(() => {
    const timer = lifecycleTimer(lifecycle);
    if (!timer) return;
    const id = setTimeout(() => dispatch(timer.elapsed(Date.now())), Math.max(0, timer.at - Date.now()));
    return () => clearTimeout(id);
  }, [lifecycle, dispatch]);
}
