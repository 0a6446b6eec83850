import http from "node:http";
import { expect, metricsHeaders, test } from "./fixtures";
import { cookieHeader } from "./raw-http";

/**
 * Bounds on live work (issue 20, hole 3): one client holds at most LIVE_MAX_STREAMS_PER_CLIENT (8)
 * streams — the 9th and every later one is refused with TOO_MANY_REQUESTS naming the limit, and
 * starts no query loop — and the page, refused a stream, says so and keeps its data fresh by polling.
 */

interface HeldStream {
  /** The response's text up to its first answer (or the refusal). */
  first: string;
  close(): void;
}

/** Opens one SSE subscription and resolves at its first event, keeping the connection open. */
function openStream(url: string, cookie: string): Promise<HeldStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: "text/event-stream", cookie }, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      const done = () => resolve({ first: text, close: () => req.destroy() });
      res.on("data", (chunk: string) => {
        text += chunk;
        // Past tRPC's `connected` event: the first answer, or the refusal.
        if (/"status":"|Too many live streams/.test(text)) done();
      });
      res.on("end", done);
    });
    req.on("error", reject);
  });
}

test("100 streams from one client: 8 are served, the 9th on are refused naming the limit, loops stay bounded", async ({
  page,
  request,
  stack,
}) => {
  const cookie = stack.auth ? cookieHeader(stack.auth.cookies) : "";
  const streams: HeldStream[] = [];
  try {
    // Each its own input: without the bound, each would be a topic with its own loop of queries.
    for (let limit = 1; limit <= 100; limit++) {
      const input = encodeURIComponent(JSON.stringify({ limit }));
      streams.push(await openStream(`${stack.app.url}/api/trpc/sessions.onActive?input=${input}`, cookie));
    }
    const served = streams.filter((s) => /"status":"ok"/.test(s.first));
    const refused = streams.filter((s) => s.first.includes("Too many live streams"));
    expect(served).toHaveLength(8);
    expect(refused).toHaveLength(92);
    expect(refused[0]?.first).toContain("LIVE_MAX_STREAMS_PER_CLIENT=8");
    expect(refused[0]?.first).toContain("TOO_MANY_REQUESTS");

    const metrics = await (
      await request.get(`${stack.app.url}/api/metrics`, { headers: metricsHeaders(stack) })
    ).text();
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\d+)`, "m").exec(metrics)?.[1]);
    expect(gauge("dashboard_live_streams")).toBe(8);
    expect(gauge("dashboard_live_loops")).toBeLessThanOrEqual(8);

    // The page from the same client is refused a stream too: it says so, and polls.
    await page.goto(stack.app.url);
    await expect(page.getByTestId("stream-refused")).toContainText("Too many live streams");
    await expect(page.getByTestId("page-status")).toHaveAttribute("data-transport", "polling");
    await expect(page.getByTestId("sessions-row").first()).toBeVisible();
    await stack.questdb.sql(
      `INSERT INTO session_events (ts, session_id, strategy, symbol, mode, status, pnl, started_at)
       VALUES (now(), 'sess-polled', 'polled-while-refused', 'SOL-USD', 'paper', 'running', 1.5, now())`,
    );
    await expect(page.getByTestId("sessions-table")).toContainText("polled-while-refused", { timeout: 15_000 });
  } finally {
    for (const stream of streams) stream.close();
  }
});
