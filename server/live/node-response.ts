import type http from "node:http";
import { onEveryRequest } from "@/server/request-hook";

/**
 * The Node.js response behind an event-stream request, for the broadcast route to write frames to
 * directly. A route handler sees only a web Request, and its web-stream body costs, per frame and
 * per stream, a ReadableStream read, Next's WritableStream write and their promises (each paying
 * AsyncLocalStorage's promise hooks): a CPU profile of 2,000 streams put that at about half of the
 * fan-out's cost, above the socket writes themselves (server/live/sse-broadcast.ts says how the
 * response uses it). Only requests that accept `text/event-stream` are recorded, each under an id
 * in a request header that a client's own value never survives; the entry goes when the route
 * takes it or the response closes.
 */

/** The request header that names the request's recorded response. */
export const RESPONSE_ID_HEADER = "x-dashboard-response-id";

/** What the broadcast response needs of Node's ServerResponse (a narrow type, so tests can fake it). */
export interface NodeResponse {
  write(chunk: Uint8Array): boolean;
  readonly writableNeedDrain: boolean;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  readonly headersSent: boolean;
  getHeader(name: string): unknown;
  on(event: "drain" | "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
}

/**
 * On globalThis: Next bundles instrumentation.ts (which records) and the route (which takes) apart,
 * each with its own copy of this module.
 */
const registry = ((globalThis as Record<symbol, unknown>)[Symbol.for("dashboard.eventStreamResponses")] ??= {
  responses: new Map<string, http.ServerResponse>(),
  lastId: 0,
}) as { responses: Map<string, http.ServerResponse>; lastId: number };
const responses = registry.responses;

/** Records the response of every event-stream request; called once at start-up (instrumentation.ts). */
export function recordEventStreamResponses(): void {
  onEveryRequest(remember);
}

function remember(req: http.IncomingMessage, res: http.ServerResponse): void {
  delete req.headers[RESPONSE_ID_HEADER];
  if (!res || !String(req.headers.accept ?? "").includes("text/event-stream")) return;
  const id = String(++registry.lastId);
  req.headers[RESPONSE_ID_HEADER] = id;
  responses.set(id, res);
  res.once("close", () => responses.delete(id));
}

/** The recorded response of the request with these headers, once (null: none, or already used or closed). */
export function takeNodeResponse(headers: Headers): NodeResponse | null {
  const id = headers.get(RESPONSE_ID_HEADER);
  const res = id ? responses.get(id) : undefined;
  if (!id || !res) return null;
  responses.delete(id);
  return res.headersSent || res.destroyed ? null : res;
}
