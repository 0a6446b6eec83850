// @vitest-environment jsdom
import { skipToken } from "@tanstack/react-query";
import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Resilient } from "@/contract/answer";
import { POLL_INTERVAL_MS } from "@/trpc/query-client";
import type { LiveProcedure } from "./live-procedures";
import { SSE_GIVE_UP_AFTER_MS, SSE_RETRY_AFTER_MS, type SubscriptionStatus } from "./live-transport-state";
import { LiveTransportProvider, useTabTransport } from "./LiveTransportProvider";
import type { PanelQuery } from "./ResilientPanel";
import { useLiveAnswer } from "./use-live-answer";

const NOW = new Date("2026-11-27T14:05:27Z");

/**
 * A procedure whose stream reports `stream.status` while asked to stream, and whose query answers
 * `polled.answer`; each remembers what it was last asked, the cache what was written to it.
 */
function fakeProcedure() {
  const stream: {
    status: SubscriptionStatus;
    refusal: string | null;
    streaming: boolean;
    push: (answer: Resilient<string[]>) => void;
  } = {
    status: "connecting",
    refusal: null,
    streaming: false,
    push: () => undefined,
  };
  const polled = {
    answer: undefined as Resilient<string[]> | undefined,
    every: undefined as number | false | undefined,
  };
  const written: [{ limit: number }, Resilient<string[]>][] = [];
  const procedure: LiveProcedure<{ limit: number }, string[]> = {
    useStreamed: (input, onAnswer) => {
      stream.streaming = input !== skipToken;
      stream.push = onAnswer;
      return stream.streaming ? { status: stream.status, refusal: stream.refusal } : { status: "idle", refusal: null };
    },
    usePolled: (_input, every): PanelQuery<string[]> => {
      polled.every = every;
      const { answer } = polled;
      return {
        data: answer,
        error: null,
        isPending: !answer,
        isFetching: false,
        dataUpdatedAt: 0,
        errorUpdatedAt: 0,
        refetch: vi.fn(),
      };
    },
    useCacheWriter: () => (input, answer) => void written.push([input, answer]),
  };
  return { procedure, stream, polled, written };
}

/** useLiveAnswer inside the tab's transport, beside the transport it reads. */
function renderLiveAnswer(procedure: LiveProcedure<{ limit: number }, string[]>) {
  return renderHook(() => ({ answer: useLiveAnswer(procedure, { limit: 100 }), tab: useTabTransport() }), {
    wrapper: LiveTransportProvider,
  });
}

function setVisibility(state: "hidden" | "visible") {
  Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
  act(() => void document.dispatchEvent(new Event("visibilitychange")));
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
});
afterEach(() => {
  cleanup();
  setVisibility("visible");
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe("useLiveAnswer: which transport", () => {
  it("a browser without server-sent events polls every POLL_INTERVAL_MS and never opens a stream", () => {
    const { procedure, stream, polled } = fakeProcedure();
    const { result } = renderLiveAnswer(procedure);
    expect(result.current.tab.transport).toBe("polling");
    expect(stream.streaming).toBe(false);
    expect(polled.every).toBe(POLL_INTERVAL_MS);
  });

  it("streams once it holds a slot, polls while the stream connects, stops polling once it is live", () => {
    vi.stubGlobal("EventSource", class {});
    const { procedure, stream, polled, written } = fakeProcedure();
    const { result, rerender } = renderLiveAnswer(procedure);
    expect(result.current.tab.transport).toBe("sse");
    expect(stream.streaming).toBe(true);
    expect(polled.every).toBe(POLL_INTERVAL_MS);

    stream.status = "pending";
    rerender();
    expect(polled.every).toBe(false);
    expect(result.current.tab.reconnecting).toBe(false);
    const pushed: Resilient<string[]> = { status: "ok", data: ["pushed"], fetchedAt: NOW.toISOString() };
    stream.push(pushed);
    expect(written, "a pushed answer lands where the query's readers find it").toEqual([[{ limit: 100 }, pushed]]);

    stream.status = "connecting";
    rerender();
    expect(result.current.tab.reconnecting).toBe(true);
    expect(polled.every).toBe(POLL_INTERVAL_MS);
  });

  it("a stream never live: polls after SSE_GIVE_UP_AFTER_MS, streams again SSE_RETRY_AFTER_MS later", () => {
    vi.stubGlobal("EventSource", class {});
    const { procedure, stream } = fakeProcedure();
    const { result } = renderLiveAnswer(procedure);
    expect(result.current.tab.transport).toBe("sse");
    act(() => void vi.advanceTimersByTime(SSE_GIVE_UP_AFTER_MS - 1));
    expect(result.current.tab.transport).toBe("sse");
    act(() => void vi.advanceTimersByTime(1));
    expect(result.current.tab.transport).toBe("polling");
    expect(stream.streaming).toBe(false);
    act(() => void vi.advanceTimersByTime(SSE_RETRY_AFTER_MS));
    expect(result.current.tab.transport).toBe("sse");
    expect(stream.streaming).toBe(true);
  });

  it("a stream refused by the server's limit: polls at once with the server's words, streams again later", () => {
    vi.stubGlobal("EventSource", class {});
    const { procedure, stream, polled } = fakeProcedure();
    const { result, rerender } = renderLiveAnswer(procedure);
    expect(result.current.tab.transport).toBe("sse");
    stream.status = "error";
    stream.refusal = "Too many live streams: this client address already has 8 open (LIVE_MAX_STREAMS_PER_CLIENT)";
    rerender();
    expect(result.current.tab.transport, "no 15 s wait for a stream the server will not give").toBe("polling");
    expect(result.current.tab.refusal).toBe(stream.refusal);
    expect(polled.every).toBe(POLL_INTERVAL_MS);
    stream.status = "idle";
    stream.refusal = null;
    act(() => void vi.advanceTimersByTime(SSE_RETRY_AFTER_MS));
    expect(result.current.tab.transport).toBe("sse");
    expect(result.current.tab.refusal).toBeNull();
  });

  it("a hidden tab neither streams nor polls; shown again, it streams", () => {
    vi.stubGlobal("EventSource", class {});
    const { procedure, stream, polled } = fakeProcedure();
    const { result } = renderLiveAnswer(procedure);
    setVisibility("hidden");
    expect(result.current.tab.transport).toBe("paused");
    expect(stream.streaming).toBe(false);
    expect(polled.every).toBe(false);
    setVisibility("visible");
    expect(result.current.tab.transport).toBe("sse");
    expect(stream.streaming).toBe(true);
  });
});

describe("useLiveAnswer: the answer kept", () => {
  it("an error after data keeps the data on screen, degraded, as of when it was fetched", () => {
    const { procedure, polled } = fakeProcedure();
    polled.answer = { status: "ok", data: ["a"], fetchedAt: NOW.toISOString() };
    const { result, rerender } = renderLiveAnswer(procedure);
    expect(result.current.answer.data).toBe(polled.answer);
    polled.answer = {
      status: "error",
      data: null,
      reason: "database_unavailable",
      message: "Failed to get active sessions: connection refused (127.0.0.1:8812)",
      cause: "connection refused (127.0.0.1:8812)",
      breaker: "closed",
    };
    rerender();
    expect(result.current.answer.data).toMatchObject({ status: "degraded", data: ["a"], cachedAt: NOW.toISOString() });
  });
});
