/** Next.js calls this once at server start; the work lives in server/start.ts (Node.js only). */
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { startServer } = await import("./server/start");
    startServer();
  }
}
