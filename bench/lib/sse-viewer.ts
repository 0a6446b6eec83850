import http from "node:http";
import { sleep } from "../../harness/stats";
import { get, type GetResult } from "./http";

/**
 * Simulated live viewers: plain node:http clients, each holding one tRPC subscription open over
 * server-sent events (`GET /api/trpc/<path>?input=…`, `Accept: text/event-stream`) and parsing the
 * stream itself — no EventSource, no browser, no reconnection: a stream that fails or ends is
 * counted, not retried. Beside them, the plain GET a polling viewer makes, on the same kind of
 * agent (one socket per viewer, no pool limit), so both modes pay for their own connections.
 *
 * tRPC 11's producer (sseStreamProducer in @trpc/server) writes `event: connected` first, then per
 * value `data: <JSON>\nid: <tracked id>\n\n\n`, `event: ping\ndata: \n\n\n` every ping interval, and
 * `event: serialized-error` / `event: return` when the subscription fails / ends.
 */

/** No pool limit: every viewer gets its own socket, as a browser tab would. */
export const viewerAgent = new http.Agent({
  keepAlive: true,
  maxSockets: Infinity,
  maxFreeSockets: 65_536,
  keepAliveMsecs: 1_000,
});

export interface SseMessage {
  /** "message" when the stream named none. */
  event: string;
  data: string;
  id: string | null;
}

/**
 * An incremental SSE parser (the field rules of the HTML spec): text in, whole messages out. Unlike
 * EventSource it also hands out messages whose data is empty (tRPC's pings), and counts comments.
 */
export class SseParser {
  private buffer = "";
  private event = "";
  private data: string[] = [];
  private id: string | null = null;
  private fields = 0;
  comments = 0;

  push(text: string): SseMessage[] {
    this.buffer += text;
    const out: SseMessage[] = [];
    let start = 0;
    for (let nl = this.buffer.indexOf("\n", start); nl >= 0; nl = this.buffer.indexOf("\n", start)) {
      let line = this.buffer.slice(start, nl);
      start = nl + 1;
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") {
        if (this.fields > 0) out.push({ event: this.event || "message", data: this.data.join("\n"), id: this.id });
        this.event = "";
        this.data = [];
        this.id = null;
        this.fields = 0;
        continue;
      }
      if (line.startsWith(":")) {
        this.comments++;
        continue;
      }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      this.fields++;
      if (field === "data") this.data.push(value);
      else if (field === "event") this.event = value;
      else if (field === "id") this.id = value;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }
}

export interface SseViewer {
  readonly index: number;
  /** performance.now() when the first data message (the topic's current answer) arrived. */
  readonly readyAt: number | null;
  /** Data messages received (not `connected`, pings or comments). */
  readonly messages: number;
  readonly pings: number;
  readonly lastEventId: string | null;
  /**
   * Why the stream failed or ended (connection error, HTTP status, serialized-error, end by the
   * server), once it has.
   */
  readonly failure: string | null;
  /** Resolves at the first data message or at the failure, whichever comes first. */
  readonly ready: Promise<void>;
  close(): void;
}

/**
 * Opens one subscription stream. `onData` gets every data message's text and the time its chunk
 * arrived (performance.now(), taken before any parsing).
 */
export function openSseViewer(
  url: string,
  index: number,
  onData: (data: string, at: number, viewer: SseViewer) => void,
): SseViewer {
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let closing = false;
  const parser = new SseParser();
  const viewer = {
    index,
    readyAt: null as number | null,
    messages: 0,
    pings: 0,
    lastEventId: null as string | null,
    failure: null as string | null,
    ready,
    close() {
      closing = true;
      req.destroy();
      markReady();
    },
  };
  const fail = (why: string) => {
    if (closing || viewer.failure) return;
    viewer.failure = why;
    markReady();
  };
  const req = http.get(
    url,
    { agent: viewerAgent, headers: { accept: "text/event-stream", "cache-control": "no-cache" } },
    (res) => {
      const type = String(res.headers["content-type"] ?? "");
      if (res.statusCode !== 200 || !type.startsWith("text/event-stream")) {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk.slice(0, 300)));
        res.on("end", () => fail(`http_${res.statusCode ?? 0} ${type}: ${body.slice(0, 200)}`));
        res.on("error", (error) => fail(error.message || error.name));
        return;
      }
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        const at = performance.now();
        for (const message of parser.push(chunk)) {
          if (message.event === "ping") viewer.pings++;
          else if (message.event === "connected") continue;
          else if (message.event === "serialized-error") fail(`serialized-error: ${message.data.slice(0, 200)}`);
          else if (message.event === "return") fail("the server ended the subscription (event: return)");
          else {
            viewer.messages++;
            if (message.id !== null) viewer.lastEventId = message.id;
            if (viewer.readyAt === null) {
              viewer.readyAt = at;
              markReady();
            }
            onData(message.data, at, viewer);
          }
        }
      });
      res.on("end", () => fail("the stream ended"));
      res.on("error", (error) => fail(error.message || error.name));
    },
  );
  req.on("error", (error) => fail(error.message || error.name));
  return viewer;
}

/**
 * Opens `count` streams, `batch` at a time (each batch waits for its streams' first message or
 * failure, or `timeoutMs`), so the server's accept backlog is never flooded.
 */
export async function openSseViewers(
  count: number,
  url: string,
  onData: (data: string, at: number, viewer: SseViewer) => void,
  options: { batch?: number; timeoutMs?: number } = {},
): Promise<SseViewer[]> {
  const batch = options.batch ?? 200;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const viewers: SseViewer[] = [];
  for (let from = 0; from < count; from += batch) {
    const opened = Array.from({ length: Math.min(batch, count - from) }, (_, i) =>
      openSseViewer(url, from + i, onData),
    );
    viewers.push(...opened);
    await Promise.race([Promise.all(opened.map((v) => v.ready)), sleep(timeoutMs)]);
  }
  return viewers;
}

/** One plain GET on the viewers' agent (a polling viewer's request), with a hard time limit. */
export function getText(url: string, timeoutMs = 30_000): Promise<GetResult> {
  return get(url, timeoutMs, viewerAgent);
}

/** Closes the viewers' idle sockets (the scenario's end). */
export function closeViewerSockets(): void {
  viewerAgent.destroy();
}
