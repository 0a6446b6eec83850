import { describe, expect, it } from "vitest";
import { POLL_INTERVAL_MS } from "@/trpc/query-client";
import {
  INITIAL_LIVE_TRANSPORT,
  isReconnecting,
  type LiveTransportEvent,
  type LiveTransportState,
  lifecycleTimer,
  liveTransportReducer,
  pollEvery,
  SSE_GIVE_UP_AFTER_MS,
  SSE_RETRY_AFTER_MS,
  transportOf,
  wantsStreamSlot,
} from "./live-transport-state";

/** The state after `events`, from the initial one. */
const stateAfter = (...events: LiveTransportEvent[]): LiveTransportState =>
  events.reduce(liveTransportReducer, INITIAL_LIVE_TRANSPORT);

const status = (stream: string, value: "idle" | "connecting" | "pending" | "error", at = 0): LiveTransportEvent => ({
  type: "stream-status",
  stream,
  status: value,
  at,
});
/** Two panels' streams, both connected. */
const bothLive = [status("sessions", "pending"), status("market", "pending")];

describe("the tab's transport, from events", () => {
  it("polls until it holds a stream slot, then streams; live once every stream is connected", () => {
    expect(transportOf(INITIAL_LIVE_TRANSPORT)).toBe("polling");
    expect(wantsStreamSlot(INITIAL_LIVE_TRANSPORT)).toBe(true);
    const connecting = stateAfter(status("sessions", "idle"), status("market", "idle"), {
      type: "slot-held",
      at: 1_000,
    });
    expect(connecting.lifecycle).toEqual({ state: "connecting", since: 1_000 });
    expect(transportOf(connecting)).toBe("sse");
    expect(isReconnecting(connecting)).toBe(false);
    const oneLive = liveTransportReducer(connecting, status("sessions", "pending"));
    expect(oneLive.lifecycle.state).toBe("connecting");
    expect(liveTransportReducer(oneLive, status("market", "pending")).lifecycle).toEqual({ state: "live" });
  });

  it("with no stream at all it never becomes live", () => {
    expect(stateAfter({ type: "slot-held", at: 0 }).lifecycle.state).toBe("connecting");
  });

  it("a stream slot held with the streams still connected (the slot lost and regained at once) is live at once", () => {
    const state = stateAfter(
      ...bothLive,
      { type: "slot-held", at: 0 },
      { type: "slot-lost" },
      { type: "slot-held", at: 5 },
    );
    expect(state.lifecycle).toEqual({ state: "live" });
  });

  it("a live stream that drops is reconnecting from then on, and live again once it is back", () => {
    const dropped = stateAfter({ type: "slot-held", at: 0 }, ...bothLive, status("market", "connecting", 7_000));
    expect(dropped.lifecycle).toEqual({ state: "reconnecting", since: 7_000 });
    expect(transportOf(dropped)).toBe("sse");
    expect(isReconnecting(dropped)).toBe(true);
    expect(liveTransportReducer(dropped, status("market", "pending", 8_000)).lifecycle).toEqual({ state: "live" });
  });

  it("streams not live within SSE_GIVE_UP_AFTER_MS give up: polls for SSE_RETRY_AFTER_MS, then tries again", () => {
    const connecting = stateAfter({ type: "slot-held", at: 1_000 });
    const timer = lifecycleTimer(connecting.lifecycle);
    expect(timer?.at).toBe(1_000 + SSE_GIVE_UP_AFTER_MS);
    const backingOff = liveTransportReducer(connecting, timer!.elapsed(16_000));
    expect(backingOff.lifecycle).toEqual({ state: "backing-off", until: 16_000 + SSE_RETRY_AFTER_MS });
    expect(transportOf(backingOff)).toBe("polling");
    expect(wantsStreamSlot(backingOff)).toBe(false);
    // The slot let go, or offered again meanwhile, changes nothing.
    expect(liveTransportReducer(backingOff, { type: "slot-lost" })).toBe(backingOff);
    expect(liveTransportReducer(backingOff, { type: "slot-held", at: 17_000 })).toBe(backingOff);

    const retry = lifecycleTimer(backingOff.lifecycle);
    expect(retry?.at).toBe(16_000 + SSE_RETRY_AFTER_MS);
    const again = liveTransportReducer(backingOff, retry!.elapsed(76_000));
    expect(again.lifecycle).toEqual({ state: "waiting" });
    expect(wantsStreamSlot(again)).toBe(true);
  });

  it("reconnecting gives up SSE_GIVE_UP_AFTER_MS after the drop; a live or waiting tab runs no timer", () => {
    const live = stateAfter({ type: "slot-held", at: 0 }, ...bothLive);
    expect(lifecycleTimer(live.lifecycle)).toBeNull();
    expect(lifecycleTimer(INITIAL_LIVE_TRANSPORT.lifecycle)).toBeNull();
    const dropped = liveTransportReducer(live, status("sessions", "error", 30_000));
    expect(lifecycleTimer(dropped.lifecycle)?.at).toBe(30_000 + SSE_GIVE_UP_AFTER_MS);
    // A timer that fires late, after the streams came back, changes nothing.
    const back = liveTransportReducer(dropped, status("sessions", "pending", 31_000));
    expect(liveTransportReducer(back, { type: "give-up-elapsed", at: 45_000 })).toBe(back);
  });

  it("a hidden tab is paused and lets its slot go; shown, it waits for a slot again", () => {
    const hidden = stateAfter({ type: "slot-held", at: 0 }, ...bothLive, {
      type: "visibility-changed",
      visible: false,
    });
    expect(transportOf(hidden)).toBe("paused");
    expect(hidden.lifecycle).toEqual({ state: "waiting" });
    expect(wantsStreamSlot(hidden)).toBe(false);
    expect(liveTransportReducer(hidden, { type: "slot-held", at: 1 })).toBe(hidden);
    const shown = liveTransportReducer(hidden, { type: "visibility-changed", visible: true });
    expect(transportOf(shown)).toBe("polling");
    expect(wantsStreamSlot(shown)).toBe(true);
  });

  it("a back-off keeps running while the tab is hidden", () => {
    const backingOff = stateAfter({ type: "slot-held", at: 0 }, { type: "give-up-elapsed", at: 15_000 });
    const hidden = liveTransportReducer(backingOff, { type: "visibility-changed", visible: false });
    expect(hidden.lifecycle).toEqual(backingOff.lifecycle);
    expect(transportOf(hidden)).toBe("paused");
  });

  it("the slot lost while streaming: back to polling until it is held again", () => {
    const lost = stateAfter({ type: "slot-held", at: 0 }, ...bothLive, { type: "slot-lost" });
    expect(transportOf(lost)).toBe("polling");
    expect(isReconnecting(lost)).toBe(false);
  });

  it("a panel gone takes its stream with it: the others decide", () => {
    const withDead = stateAfter({ type: "slot-held", at: 0 }, ...bothLive, status("old", "error", 1));
    expect(withDead.lifecycle.state).toBe("reconnecting");
    const closed = liveTransportReducer(withDead, { type: "stream-closed", stream: "old", at: 2 });
    expect(closed.streams).toEqual({ sessions: "pending", market: "pending" });
    expect(closed.lifecycle).toEqual({ state: "live" });
  });
});

describe("pollEvery", () => {
  it("polls unless the tab is hidden or this query's stream is live", () => {
    expect(pollEvery("paused")).toBe(false);
    expect(pollEvery("paused", "pending")).toBe(false);
    expect(pollEvery("sse", "pending")).toBe(false);
    expect(pollEvery("sse", "connecting")).toBe(POLL_INTERVAL_MS);
    expect(pollEvery("sse")).toBe(POLL_INTERVAL_MS);
    expect(pollEvery("polling", "pending")).toBe(POLL_INTERVAL_MS);
  });
});
