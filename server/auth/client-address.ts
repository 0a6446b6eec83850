import type http from "node:http";
import { onEveryRequest } from "@/server/request-hook";

/**
 * Who the client is, for the rate limit: the address of the TCP peer, or — behind proxies the
 * operator trusts (TRUST_PROXY_HOPS) — the address the outermost trusted proxy saw. Next.js hands
 * a route handler the client's own X-Forwarded-For untouched when the client sent one, so without
 * this a client reaching the port directly would pick its own key with every request.
 */

/** The request header that carries the socket's address into Next.js's handlers; a client's own is replaced. */
export const SOCKET_ADDRESS_HEADER = "x-dashboard-socket-address";
/** Set (to "1") on a request whose path was not valid URL encoding; a client's own is removed. */
export const MALFORMED_PATH_HEADER = "x-dashboard-malformed-path";

/**
 * A request target whose path cannot be decoded ("%zz", a torn UTF-8 sequence), with every "%" of
 * its path escaped so it can be; null when the path decodes. Next.js itself would answer such a
 * path with a 500 before any handler (or the rate limit) sees it.
 */
export function escapeMalformedPath(target: string): string | null {
  const query = target.indexOf("?");
  const path = query === -1 ? target : target.slice(0, query);
  try {
    decodeURIComponent(path);
    return null;
  } catch {
    return path.replaceAll("%", "%25") + (query === -1 ? "" : target.slice(query));
  }
}

/** "::ffff:10.0.0.1" (an IPv4 client on a dual-stack socket) is 10.0.0.1. */
function plainAddress(address: string): string {
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
}

/**
 * Writes every request's socket address into SOCKET_ADDRESS_HEADER before Next.js sees the request.
 * Called once at start-up (instrumentation.ts): `next start` owns the HTTP server, and its request
 * objects reach route handlers without their socket.
 */
export function recordSocketAddresses(): void {
  onEveryRequest(markSocketAddress);
}

function markSocketAddress(req: http.IncomingMessage): void {
  const address = req.socket?.remoteAddress;
  if (address) req.headers[SOCKET_ADDRESS_HEADER] = plainAddress(address);
  else delete req.headers[SOCKET_ADDRESS_HEADER];
  // A path Next.js cannot decode reaches the handlers decodable and marked, for a 400 after the limit.
  const escaped = req.url === undefined ? null : escapeMalformedPath(req.url);
  if (escaped === null) delete req.headers[MALFORMED_PATH_HEADER];
  else {
    req.url = escaped;
    req.headers[MALFORMED_PATH_HEADER] = "1";
  }
}

/**
 * The client's address. 0 trusted hops: the socket's. n hops: the n-th address from the right of
 * X-Forwarded-For (each trusted proxy appends the address it saw), or its leftmost when the chain is
 * shorter. "unknown" when neither is known: one shared bucket, never a key the client chose.
 */
export function clientAddress(headers: Headers, trustProxyHops: number): string {
  const socket = headers.get(SOCKET_ADDRESS_HEADER)?.trim() || null;
  if (trustProxyHops === 0) return socket ?? "unknown";
  const chain = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((hop) => hop.trim())
    .filter((hop) => hop !== "");
  const hop = chain.length >= trustProxyHops ? chain[chain.length - trustProxyHops] : chain[0];
  return hop ? plainAddress(hop) : (socket ?? "unknown");
}
