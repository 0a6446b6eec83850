/** Next.js calls this once at server start; the work lives in server/start.ts (Node.js only). */
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    // Before the first request: the rate limit's client is the socket's address (TRUST_PROXY_HOPS=0).
    const { recordSocketAddresses } = await import("./server/auth/client-address");
    recordSocketAddresses();
    // The broadcast route writes live frames to Node's response directly (server/live/node-response.ts).
    const { recordEventStreamResponses } = await import("./server/live/node-response");
    recordEventStreamResponses();
    const { startServer } = await import("./server/start");
    startServer();
  }
}
