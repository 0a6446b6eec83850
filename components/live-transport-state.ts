import { POLL_INTERVAL_MS } from "@/trpc/query-client";

/**
 * How this tab gets its updates, as a pure reducer: events in (the tab shown or hidden, a stream
 * slot held or lost, a stream's status, a timer elapsed), state out. The hooks that listen for
 * those events (live-transport.ts) only dispatch them, so every rule is here and testable alone.
 */

export type Transport = "sse" | "polling" | "paused";

/** A stream that has not become live for this long has failed (a buffering proxy, a dead app)… */
export const SSE_GIVE_UP_AFTER_MS = 15_000;
/** …and the tab polls for this long before it tries to stream again. */
export const SSE_RETRY_AFTER_MS = 60_000;

/** tRPC's useSubscription status: "pending" means connected and waiting for data. */
export type SubscriptionStatus = "idle" | "connecting" | "pending" | "error";

/** Where this tab's streams are: the tab streams in the middle three states and polls otherwise. */
export type StreamLifecycle =
  /** No stream slot (yet), or the tab is hidden: polls while visible. */
  | { state: "waiting" }
  /** A slot held, the streams not yet live since `since`. */
  | { state: "connecting"; since: number }
  | { state: "live" }
  /** Had been live; not since `since`. */
  | { state: "reconnecting"; since: number }
  /** Gave up streaming; polls until `until`. */
  | { state: "backing-off"; until: number };

export interface LiveTransportState {
  visible: boolean;
  lifecycle: StreamLifecycle;
  /** Each panel's stream, by the panel's id. */
  streams: Readonly<Record<string, SubscriptionStatus>>;
  /** Why the server refused this tab a stream (its limit per client), until the back-off ends. */
  refusal: string | null;
}

export type LiveTransportEvent =
  | { type: "visibility-changed"; visible: boolean }
  | { type: "slot-held"; at: number }
  | { type: "slot-lost" }
  | { type: "stream-status"; stream: string; status: SubscriptionStatus; at: number }
  | { type: "stream-closed"; stream: string; at: number }
  | { type: "stream-refused"; message: string; at: number }
  | { type: "give-up-elapsed"; at: number }
  | { type: "retry-elapsed" };

/** Visible (as the server renders it), waiting for a slot, no streams yet. */
export const INITIAL_LIVE_TRANSPORT: LiveTransportState = {
  visible: true,
  lifecycle: { state: "waiting" },
  streams: {},
  refusal: null,
};

export function liveTransportReducer(state: LiveTransportState, event: LiveTransportEvent): LiveTransportState {
  const { lifecycle } = state;
  switch (event.type) {
    case "visibility-changed":
      if (event.visible === state.visible) return state;
      // Hidden, the tab lets its slot go; a back-off keeps running.
      return {
        ...state,
        visible: event.visible,
        lifecycle: event.visible || !isStreaming(lifecycle) ? lifecycle : WAITING,
      };
    case "slot-held":
      if (!state.visible || lifecycle.state !== "waiting") return state;
      return settle({ ...state, lifecycle: { state: "connecting", since: event.at } }, event.at);
    case "slot-lost":
      return isStreaming(lifecycle) ? { ...state, lifecycle: WAITING } : state;
    case "stream-status":
      if (state.streams[event.stream] === event.status) return state;
      return settle({ ...state, streams: { ...state.streams, [event.stream]: event.status } }, event.at);
    case "stream-closed": {
      if (!(event.stream in state.streams)) return state;
      const { [event.stream]: _closed, ...streams } = state.streams;
      return settle({ ...state, streams }, event.at);
    }
    case "stream-refused":
      // Refused by the server's limit, not lost: retrying at once would be refused again.
      if (!isStreaming(lifecycle)) return state;
      return {
        ...state,
        refusal: event.message,
        lifecycle: { state: "backing-off", until: event.at + SSE_RETRY_AFTER_MS },
      };
    case "give-up-elapsed":
      if (lifecycle.state !== "connecting" && lifecycle.state !== "reconnecting") return state;
      return { ...state, lifecycle: { state: "backing-off", until: event.at + SSE_RETRY_AFTER_MS } };
    case "retry-elapsed":
      return lifecycle.state === "backing-off" ? { ...state, lifecycle: WAITING, refusal: null } : state;
  }
}

const WAITING: StreamLifecycle = { state: "waiting" };

/**
 * After the streams or the lifecycle changed at `at`: a streaming tab whose streams are all
 * connected is live; a live one whose stream dropped is reconnecting since `at`.
 */
function settle(state: LiveTransportState, at: number): LiveTransportState {
  const { lifecycle } = state;
  const live = allLive(state.streams);
  if (live && (lifecycle.state === "connecting" || lifecycle.state === "reconnecting")) {
    return { ...state, lifecycle: { state: "live" } };
  }
  if (!live && lifecycle.state === "live") return { ...state, lifecycle: { state: "reconnecting", since: at } };
  return state;
}

function allLive(streams: LiveTransportState["streams"]): boolean {
  const statuses = Object.values(streams);
  return statuses.length > 0 && statuses.every((status) => status === "pending");
}

function isStreaming(lifecycle: StreamLifecycle): boolean {
  return lifecycle.state === "connecting" || lifecycle.state === "live" || lifecycle.state === "reconnecting";
}

export function transportOf(state: LiveTransportState): Transport {
  if (!state.visible) return "paused";
  return isStreaming(state.lifecycle) ? "sse" : "polling";
}

/** The streams had been live and are being re-established. */
export function isReconnecting(state: LiveTransportState): boolean {
  return state.visible && state.lifecycle.state === "reconnecting";
}

/** Whether the tab should hold a stream slot: visible and not backing off. */
export function wantsStreamSlot(state: LiveTransportState): boolean {
  return state.visible && state.lifecycle.state !== "backing-off";
}

/** The timer a lifecycle runs: when it elapses and the event it then sends; none when it waits for nothing. */
export function lifecycleTimer(
  lifecycle: StreamLifecycle,
): { at: number; elapsed: (now: number) => LiveTransportEvent } | null {
  switch (lifecycle.state) {
    case "connecting":
    case "reconnecting":
      return { at: lifecycle.since + SSE_GIVE_UP_AFTER_MS, elapsed: (now) => ({ type: "give-up-elapsed", at: now }) };
    case "backing-off":
      return { at: lifecycle.until, elapsed: () => ({ type: "retry-elapsed" }) };
    default:
      return null;
  }
}

/** How often a query polls: never while its stream is live or the tab is hidden. */
export function pollEvery(transport: Transport, stream?: SubscriptionStatus): number | false {
  if (transport === "paused") return false;
  if (transport === "sse" && stream === "pending") return false;
  return POLL_INTERVAL_MS;
}
