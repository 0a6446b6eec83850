import { readdirSync, readFileSync } from "node:fs";
import pino from "pino";
import { startLiveFeed } from "../../demo/live-feed/live-feed";
import { round, sleep } from "../../harness/stats";
import { startInstance, type Instance } from "../lib/fleet-processes";
import { getText, openSseViewer, type SseViewer } from "../lib/sse-viewer";
import type { BenchContext, FigureResult, FigureSpec, Scenario } from "../lib/types";

/**
 * diskBytesPerMinute: what keeping last-known-good answers on disk costs the disk. One more
 * instance (no Redis, its own DASHBOARD_DATA_DIR), 400 distinct cached inputs (`market.candles`,
 * 100–499 rows each), the page's two live panels open as SSE streams and the demo feed writing every
 * second (so both panels' answers change every tick). The figure is the bytes the instance's
 * process tree sent to storage (`write_bytes` of /proc/<pid>/io) over one minute.
 */

const INPUTS = 400;
const WINDOW_MS = 60_000;
const QUICK_WINDOW_MS = 15_000;

export const DISK_BYTES_PER_MINUTE: FigureSpec<"diskBytesPerMinute"> = {
  key: "diskBytesPerMinute",
  unit: "bytes",
  goal: { max: 5 * 1024 * 1024, text: "≤ 5 MB" },
  method: {
    text:
      "one more app instance (`next start`, no `REDIS_URL`, its own `DASHBOARD_DATA_DIR`): 400 distinct " +
      "`market.candles` inputs asked once each (100–499 rows), then the page's two live panels open as SSE " +
      "streams (`sessions.onActive` limit 100, `market.onCandles` BTC-USD 1m 240) with the demo feed writing " +
      "every second. The figure is the growth of `write_bytes` in /proc/<pid>/io, summed over the instance's " +
      "process tree, over one minute (BENCH_QUICK: 15 s, scaled to a minute).",
  },
};

/** Every pid whose parent chain leads to `root` (next start may run its server in a child). */
function processTree(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {}
  }
  const tree = [root];
  for (const pid of parentOf.keys()) {
    let up = parentOf.get(pid);
    while (up !== undefined && up > 1 && up !== root) up = parentOf.get(up);
    if (up === root) tree.push(pid);
  }
  return tree;
}

function writeBytes(root: number): number {
  let total = 0;
  for (const pid of processTree(root)) {
    try {
      const match = /write_bytes:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
      total += Number(match?.[1] ?? 0);
    } catch {}
  }
  return total;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
const candlesInput = (i: number) => ({
  symbol: ["BTC-USD", "ETH-USD", "SOL-USD"][i % 3],
  interval: "1m",
  limit: 100 + i,
});
const trpcUrl = (appUrl: string, procedure: string, input: unknown) =>
  `${appUrl}/api/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`;

async function cacheInputs(instance: Instance): Promise<number> {
  let ok = 0;
  for (let i = 0; i < INPUTS; i += 20) {
    const batch = Array.from({ length: 20 }, (_, j) =>
      getText(trpcUrl(instance.app.url, "market.candles", candlesInput(i + j))),
    );
    for (const result of await Promise.all(batch)) if (result.status === 200 && result.body.includes('"ok"')) ok++;
  }
  return ok;
}

function openLivePanels(instance: Instance): SseViewer[] {
  return [
    openSseViewer(trpcUrl(instance.app.url, "sessions.onActive", { limit: 100 }), 0, () => undefined),
    openSseViewer(
      trpcUrl(instance.app.url, "market.onCandles", { symbol: "BTC-USD", interval: "1m", limit: 240 }),
      1,
      () => undefined,
    ),
  ];
}

async function diskBytesPerMinute(ctx: BenchContext): Promise<FigureResult> {
  const windowMs = ctx.quick ? QUICK_WINDOW_MS : WINDOW_MS;
  const feed = startLiveFeed({ httpUrl: ctx.questdb.httpUrl, log: pino({ level: "silent" }) });
  const instance = await startInstance(ctx, "disk-writes");
  const panels: SseViewer[] = [];
  try {
    const cached = await cacheInputs(instance);
    panels.push(...openLivePanels(instance));
    await Promise.all(panels.map((panel) => panel.ready));
    await sleep(2_000); // the inputs' first write behind is not part of the steady state
    const before = writeBytes(instance.app.pid);
    const messagesBefore = panels.map((panel) => panel.messages);
    await sleep(windowMs);
    const written = writeBytes(instance.app.pid) - before;
    const perMinute = Math.round((written * 60_000) / windowMs);
    const liveEvents = panels.map((panel, i) => panel.messages - (messagesBefore[i] ?? 0));
    ctx.progress(
      `  disk writes: ${mb(perMinute)} a minute (${cached} inputs cached, live events ${liveEvents.join(" + ")})`,
    );
    return {
      value: perMinute,
      runs: [perMinute],
      spread: null,
      runsLabel: `1 window of ${windowMs / 1000} s`,
      display: mb(perMinute),
      baseline: { value: null, display: "—", what: "none", runs: [] },
      ratio: null,
      ratioDisplay: "—",
      details: {
        cachedInputs: cached,
        windowMs,
        writtenBytes: written,
        liveEventsInWindow: liveEvents,
        panelFailures: panels.map((panel) => panel.failure),
        megabytesPerMinute: round(perMinute / 1024 / 1024, 3),
      },
    };
  } finally {
    for (const panel of panels) panel.close();
    await instance.app.stop();
    await feed.stop();
  }
}

export const diskWritesScenario: Scenario<"diskBytesPerMinute"> = {
  name: "diskWrites",
  title: "Disk writes of the last-known-good store (400 inputs, two live panels)",
  figures: [DISK_BYTES_PER_MINUTE],
  run: async (ctx) => ({
    diskBytesPerMinute: await diskBytesPerMinute(ctx),
  }),
};
