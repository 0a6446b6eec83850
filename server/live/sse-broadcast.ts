import type { LiveEvent } from "@/contract/answer";
import type { LiveSink } from "./live-stream";
import type { NodeResponse } from "./node-response";

/**
 * A live subscription's response, written the way tRPC's SSE producer writes it (so tRPC's client,
 * `httpSubscriptionLink`, reads it unchanged), but with one serialization per event for every
 * viewer: each event's frame is encoded once and the same bytes are enqueued on every stream, with
 * no async step, JSON.stringify or TextEncoderStream per stream (tRPC's producer costs about
 * 0.45 ms per stream per event). A stream whose client reads slowly holds only the latest frame.
 * One timer pings every open stream.
 */

/** What a stream that can be broadcast offers: handing its events to a sink (server/live/live-stream.ts). */
export interface Attachable {
  attach(sink: LiveSink): () => void;
}

export function isAttachable(value: unknown): value is Attachable {
  return typeof value === "object" && value !== null && typeof (value as Attachable).attach === "function";
}

export interface BroadcastOptions {
  /** tRPC's `sse.client` options, sent in the `connected` event (the client's reconnect-after-silence). */
  client: Record<string, unknown>;
  pingMs: number;
}

/** tRPC's SSE response headers (sseHeaders in @trpc/server). */
export const SSE_HEADERS = {
  "Content-Type": "text/event-stream",
  "Cache-Control": "no-cache, no-transform",
  "X-Accel-Buffering": "no",
  Connection: "keep-alive",
} as const;

const encoder = new TextEncoder();
const frames = new WeakMap<LiveEvent, Uint8Array>();

/** A tracked value as tRPC writes it (`data: <JSON>\nid: <id>\n\n\n`), encoded once per event. */
export function frameOf(event: LiveEvent): Uint8Array {
  let frame = frames.get(event);
  if (!frame) {
    frame = encoder.encode(`data: ${JSON.stringify(event.answer)}\nid: ${event.id}\n\n\n`);
    frames.set(event, frame);
  }
  return frame;
}

const eventFrame = (event: string, data: string) => encoder.encode(`event: ${event}\ndata: ${data}\n\n\n`);
const PING = eventFrame("ping", "");
const RETURN = eventFrame("return", "");

/** Every open broadcast stream, pinged by one timer. */
const open = new Set<(frame: Uint8Array) => void>();
let pingTimer: NodeJS.Timeout | null = null;

function pingAll(pingMs: number, ping: (frame: Uint8Array) => void): () => void {
  open.add(ping);
  if (!pingTimer) {
    pingTimer = setInterval(() => {
      for (const each of open) each(PING);
    }, pingMs);
    pingTimer.unref?.();
  }
  return () => {
    open.delete(ping);
    if (open.size === 0 && pingTimer) {
      clearInterval(pingTimer);
      pingTimer = null;
    }
  };
}

/** The SSE response of one attached stream: `connected`, then each event's shared frame, pings, `return` at the end. */
export function broadcastResponse(stream: Attachable, options: BroadcastOptions, node?: NodeResponse | null): Response {
  return node ? directResponse(stream, options, node) : webResponse(stream, options);
}

/** Written through the web stream alone: every frame is enqueued and Next's pipe writes it. */
function webResponse(stream: Attachable, options: BroadcastOptions): Response {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let pending: Uint8Array | null = null;
  let state: "open" | "ended" = "open";
  let detach: () => void = () => undefined;
  let unping: () => void = () => undefined;
  const hasRoom = () => (controller.desiredSize ?? 0) > 0;
  const finish = () => {
    state = "ended";
    pending = null;
    unping();
  };
  const sink: LiveSink = {
    offer(event) {
      if (state !== "open") return;
      if (hasRoom()) controller.enqueue(frameOf(event));
      else pending = frameOf(event); // a slow reader: only the latest waits
    },
    end() {
      if (state !== "open") return;
      finish();
      endWith(controller, []);
    },
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        c.enqueue(connectedFrame(options));
        unping = pingAll(options.pingMs, (frame) => {
          if (state === "open" && hasRoom()) controller.enqueue(frame);
        });
        detach = stream.attach(sink);
      },
      pull() {
        if (state === "open" && pending) {
          const frame = pending;
          pending = null;
          controller.enqueue(frame);
        }
      },
      cancel() {
        finish();
        detach();
      },
    },
    { highWaterMark: 1 },
  );
  return new Response(body, { status: 200, headers: SSE_HEADERS });
}

const connectedFrame = (options: BroadcastOptions) => eventFrame("connected", JSON.stringify(options.client));

/** Enqueues the last frames and `return`, and closes the stream (unless its reader has gone already). */
function endWith(controller: ReadableStreamDefaultController<Uint8Array>, frames: Uint8Array[]): void {
  try {
    for (const frame of [...frames, RETURN]) controller.enqueue(frame);
    controller.close();
  } catch {
    // the reader has gone already
  }
}

/**
 * Written to Node's response directly: Next's pipe of the web body still sets the status and
 * headers and ends the response (the body's `return` and close), and its abort on a closed
 * connection cancels the body; but the frames between go to `node.write` with no web-stream step
 * (node-response.ts says why). The body has no buffer (highWaterMark 0): its first pull is Next's
 * first read, after Next has set the headers on `node`; from then on this writes. Until then, and
 * while the socket is full (`writableNeedDrain`), only the latest frame waits. Should the headers
 * not be set at the first read (a Next.js that reads the body earlier), the body carries the
 * frames itself, one per read.
 */
function directResponse(stream: Attachable, options: BroadcastOptions, node: NodeResponse): Response {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let pending: Uint8Array | null = null;
  /** waiting: no read yet; node: writing to `node`; web: the fallback, one frame per read (`wanted`). */
  let mode: "waiting" | "node" | "web" = "waiting";
  let wanted = false;
  let state: "open" | "ended" = "open";
  let detach: () => void = () => undefined;
  let unping: () => void = () => undefined;
  const send = (frame: Uint8Array): boolean => {
    if (mode === "node") {
      if (node.writableNeedDrain || node.writableEnded || node.destroyed) return false;
      node.write(frame);
      return true;
    }
    if (mode === "waiting" || !wanted) return false;
    wanted = false;
    controller.enqueue(frame);
    return true;
  };
  const flush = () => {
    if (state === "open" && pending && send(pending)) pending = null;
  };
  const finish = () => {
    state = "ended";
    pending = null;
    unping();
    node.off("drain", flush);
  };
  const sink: LiveSink = {
    offer(event) {
      if (state === "open" && !send(frameOf(event))) pending = frameOf(event); // only the latest waits
    },
    end() {
      if (state !== "open") return;
      finish();
      // Through the body even when writing directly: Next writes `return` after the frames, then ends.
      endWith(controller, mode === "waiting" ? [connectedFrame(options)] : []);
    },
  };
  const firstRead = () => {
    const ready = !node.headersSent && node.getHeader("content-type") === SSE_HEADERS["Content-Type"];
    mode = ready ? "node" : "web";
    if (ready) {
      node.write(connectedFrame(options));
      node.on("drain", flush);
    } else controller.enqueue(connectedFrame(options));
    flush();
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        unping = pingAll(options.pingMs, (frame) => {
          if (state === "open") send(frame);
        });
        detach = stream.attach(sink);
      },
      pull() {
        if (state !== "open") return;
        if (mode === "waiting") return firstRead();
        wanted = true;
        flush();
      },
      cancel() {
        finish();
        detach();
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: 200, headers: SSE_HEADERS });
}
