import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "@/harness/eventually";
import { createLiveTopics, type LiveTopics } from "./live-topics";
import { broadcastResponse, frameOf } from "./sse-broadcast";

const hubs: LiveTopics[] = [];
afterEach(() => {
  for (const live of hubs.splice(0)) live.close();
});

function setup() {
  const live = createLiveTopics({ intervalMs: 20 });
  hubs.push(live);
  const state = { value: 1 };
  const fetch = async () => ({ status: "ok", data: state.value, fetchedAt: new Date().toISOString() });
  const open = (signal = new AbortController().signal) =>
    broadcastResponse(live.subscribe({ topic: "t", fetch, signal }), {
      client: { reconnectAfterInactivityMs: 12_000 },
      pingMs: 60_000,
    });
  return { live, state, open };
}

const decoder = new TextDecoder();

describe("broadcast response", () => {
  it("writes tRPC's SSE format: connected, then each change as data and id", async () => {
    const { state, open } = setup();
    const response = open();
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const reader = response.body!.getReader();
    let text = "";
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) text += decoder.decode((await reader.read()).value);
    };
    await readUntil(/"data":1/);
    expect(text).toMatch(/^event: connected\ndata: \{"reconnectAfterInactivityMs":12000\}\n\n\n/);
    expect(text).toMatch(/\ndata: \{"status":"ok","data":1,"fetchedAt":"[^"]+"\}\nid: [0-9a-f]{8}\.1\n\n\n$/);
    state.value = 2;
    await readUntil(/"data":2/);
    await reader.cancel();
  });

  it("every stream gets the same bytes: an event is serialized once", async () => {
    const { open } = setup();
    const readers = Array.from({ length: 20 }, () => open().body!.getReader());
    const seconds = await Promise.all(
      readers.map(async (reader) => {
        await reader.read(); // connected
        return (await reader.read()).value!;
      }),
    );
    expect(new Set(seconds).size).toBe(1);
    expect(decoder.decode(seconds[0])).toMatch(/^data: /);
    await Promise.all(readers.map((reader) => reader.cancel()));
  });

  it("a reader that does not read holds only the latest change, never a queue", async () => {
    const { state, open } = setup();
    const reader = open().body!.getReader();
    await reader.read(); // connected; the first answer then waits in the stream
    for (let value = 2; value <= 6; value++) {
      state.value = value;
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    const texts: string[] = [];
    for (let i = 0; i < 2; i++) texts.push(decoder.decode((await reader.read()).value));
    expect(texts[0]).toMatch(/"data":1/);
    expect(texts[1]).toMatch(/"data":6/);
    await reader.cancel();
  });

  it("the stream ends with tRPC's return event when the subscription's signal aborts, and leaves the topic", async () => {
    const { live, open } = setup();
    const controller = new AbortController();
    const reader = open(controller.signal).body!.getReader();
    let text = "";
    while (!/data: \{/.test(text)) text += decoder.decode((await reader.read()).value);
    controller.abort();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value);
    expect(text).toMatch(/event: return\ndata: \n\n\n$/);
    await eventually(() => live.stats().topics === 0);
  });

  it("frameOf encodes an event once", () => {
    const event = { id: "ab.1", answer: { status: "ok", data: [1] } };
    expect(frameOf(event)).toBe(frameOf(event));
  });
});

/** A Node response as the broadcast sees it: what is written, and a socket that may be full. */
function fakeNode(contentType = "text/event-stream") {
  const listeners = new Map<string, Set<() => void>>();
  const node = {
    written: [] as string[],
    writableNeedDrain: false,
    writableEnded: false,
    destroyed: false,
    headersSent: false,
    getHeader: (name: string) => (name === "content-type" ? contentType : undefined),
    write(chunk: Uint8Array) {
      node.written.push(decoder.decode(chunk));
      return !node.writableNeedDrain;
    },
    on(event: string, listener: () => void) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event)!.add(listener);
    },
    off(event: string, listener: () => void) {
      listeners.get(event)?.delete(listener);
    },
    drain() {
      node.writableNeedDrain = false;
      for (const listener of listeners.get("drain") ?? []) listener();
    },
  };
  return node;
}

describe("broadcast response written to Node's response", () => {
  function openDirect(node: ReturnType<typeof fakeNode>, signal = new AbortController().signal) {
    const { live, state } = setup();
    const fetch = async () => ({ status: "ok", data: state.value, fetchedAt: new Date().toISOString() });
    const response = broadcastResponse(
      live.subscribe({ topic: "t", fetch, signal }),
      { client: { reconnectAfterInactivityMs: 12_000 }, pingMs: 60_000 },
      node,
    );
    return { live, state, response };
  }

  it("after Next's first read, frames go to the Node response in tRPC's format, none through the body", async () => {
    const node = fakeNode();
    const { state, response } = openDirect(node);
    const reader = response.body!.getReader();
    const read = reader.read(); // Next's pipe: its first read starts the direct writes
    await eventually(() => node.written.some((text) => text.includes('"data":1')));
    expect(node.written[0]).toBe('event: connected\ndata: {"reconnectAfterInactivityMs":12000}\n\n\n');
    expect(node.written[1]).toMatch(/^data: \{"status":"ok","data":1,"fetchedAt":"[^"]+"\}\nid: [0-9a-f]{8}\.1\n\n\n$/);
    state.value = 2;
    await eventually(() => node.written.some((text) => text.includes('"data":2')));
    await reader.cancel();
    await read;
  });

  it("a full socket holds only the latest frame until it drains", async () => {
    const node = fakeNode();
    const { state, response } = openDirect(node);
    const reader = response.body!.getReader();
    void reader.read();
    await eventually(() => node.written.length === 2);
    node.writableNeedDrain = true;
    for (let value = 2; value <= 6; value++) {
      state.value = value;
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    expect(node.written.length).toBe(2);
    node.drain();
    expect(node.written.length).toBe(3);
    expect(node.written[2]).toMatch(/"data":6/);
    await reader.cancel();
  });

  it("ends with tRPC's return event through the body, after the frames written directly", async () => {
    const node = fakeNode();
    const controller = new AbortController();
    const { live, response } = openDirect(node, controller.signal);
    const reader = response.body!.getReader();
    const first = reader.read();
    await eventually(() => node.written.length === 2);
    controller.abort();
    expect(decoder.decode((await first).value)).toBe("event: return\ndata: \n\n\n");
    expect((await reader.read()).done).toBe(true);
    await eventually(() => live.stats().topics === 0);
  });

  it("headers not set at the first read (not Next's pipe): the body carries every frame itself", async () => {
    const node = fakeNode("text/plain");
    const { response } = openDirect(node);
    const reader = response.body!.getReader();
    let text = "";
    while (!/"data":1/.test(text)) text += decoder.decode((await reader.read()).value);
    expect(text).toMatch(/^event: connected\n/);
    expect(node.written).toEqual([]);
    await reader.cancel();
  });
});
