import pg from "pg";
import pino from "pino";
import { Registry } from "prom-client";
import { parseEnv } from "../../server/env";
import { createMetrics } from "../../server/observability/metrics";
import { activeSessionsQuery } from "../../server/questdb/queries";
import { composeQuestdb } from "../../server/questdb/service";
import { createCaller } from "../../server/root";
import { createContextInner } from "../../server/trpc";
import { fmt, fmtMs, median, percentile, round, spread } from "../../harness/stats";
import type { BenchContext, FigureResult } from "../lib/types";

/**
 * overheadRatio: the median latency of `sessions.active` through the whole resilient path, called
 * in-process with the tRPC server-side caller (zod input → router → resilient query → policy:
 * retry ∘ breaker ∘ attempt timeout → hardened pool → QuestDB), divided by the median latency of
 * the same SQL with the same parameter through a plain `pg.Pool` — calls interleaved one by one
 * (ours, plain, ours, plain, …), one at a time, in the same process.
 *
 * Every call of ours must reach QuestDB, or the figure would measure the 1 s reuse of a success
 * instead of the path. The router's input is bounded (limit 1..500), so the cache key cannot be
 * varied per call; instead the service is composed with a reuse window of 0 (`freshForMs`) —
 * everything else is the code the app runs. The app's instrumentation confirms it: `questdb_queries_started_total` grows by
 * exactly one per call.
 */

const silent = pino({ level: "silent" });
const LIMIT = 100;

/** The paths one call can take, each a function making one call. */
interface Paths {
  /** The tRPC caller over the resilient layer, reuse window 0: every call reaches QuestDB. */
  ours(): Promise<void>;
  /** The same SQL through a default pg.Pool. */
  plain(): Promise<void>;
  /** The tRPC caller as shipped, where a success under 1 s old is reused. */
  asShipped(): Promise<unknown>;
  /** Each layer on its own, in the order a call travels (each includes the ones above it). */
  layers: [string, () => Promise<unknown>][];
  /** `sessions.active` queries ours has started so far (the app's own counter). */
  queriesStarted(): Promise<number>;
  /** Answers of ours that were not `ok`. */
  notOk(): number;
  close(): Promise<void>;
}

function openPaths(ctx: BenchContext): Paths {
  const config = parseEnv({ QUESTDB_URL: ctx.questdb.pgUrl, QUESTDB_HTTP_URL: ctx.questdb.httpUrl });
  const metrics = createMetrics(new Registry());
  const service = composeQuestdb(config, { log: silent, metrics, freshForMs: 0 });
  const shipped = composeQuestdb(config, { log: silent, metrics: createMetrics(new Registry()) });
  const ours = createCaller(createContextInner({ questdb: service }));
  const asShipped = createCaller(createContextInner({ questdb: shipped }));

  const plain = new pg.Pool({ connectionString: ctx.questdb.pgUrl });
  plain.on("error", () => undefined);
  const { sql, params } = activeSessionsQuery(LIMIT);

  let notOk = 0;
  const callOurs = async () => {
    const answer = await ours.sessions.active({ limit: LIMIT });
    if (answer.status !== "ok") notOk++;
  };
  const callPlain = async () => {
    await plain.query(sql, params as unknown[]);
  };
  const spec = { operation: "sessions.active", action: "get active sessions", input: { limit: LIMIT }, query: activeSessionsQuery(LIMIT) };
  return {
    ours: callOurs,
    plain: callPlain,
    asShipped: () => asShipped.sessions.active({ limit: LIMIT }),
    layers: [
      ["plain pg.Pool", callPlain],
      ["QuestdbPool.query (hardened pool)", () => service.pool.query(sql, params)],
      ["+ policy (retry ∘ breaker ∘ attempt timeout)", () => service.policy.execute("sessions.active", () => service.pool.query(sql, params))],
      ["+ resilient query (cache, single-flight, deadline, metrics)", () => service.run(spec)],
      ["+ tRPC caller (zod input, middleware, router)", callOurs],
    ],
    queriesStarted: async () =>
      (await metrics.dbQueries.get()).values.find((v) => v.labels.operation === "sessions.active")?.value ?? 0,
    notOk: () => notOk,
    close: async () => {
      await Promise.all([service.close(), shipped.close()]);
      await plain.end().catch(() => undefined);
    },
  };
}

/** Milliseconds one awaited call took. */
async function timed(call: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await call();
  return performance.now() - t;
}

interface InterleavedRuns {
  ratios: number[];
  oursMedians: number[];
  plainMedians: number[];
  oursAll: number[];
  plainAll: number[];
  queriesSent: number;
}

/** `runs` runs of `calls` calls each, ours and plain alternating call by call. */
async function interleavedRuns(ctx: BenchContext, paths: Paths, runs: number, calls: number): Promise<InterleavedRuns> {
  const measured: InterleavedRuns = { ratios: [], oursMedians: [], plainMedians: [], oursAll: [], plainAll: [], queriesSent: 0 };
  const queriesBefore = await paths.queriesStarted();
  for (let run = 0; run < runs; run++) {
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < calls; i++) {
      a.push(await timed(paths.ours));
      b.push(await timed(paths.plain));
    }
    const ma = median(a);
    const mb = median(b);
    measured.ratios.push(ma / mb);
    measured.oursMedians.push(ma);
    measured.plainMedians.push(mb);
    measured.oursAll.push(...a);
    measured.plainAll.push(...b);
    ctx.progress(`  overhead run ${run + 1}/${runs}: ours ${ma.toFixed(3)} ms, plain pg ${mb.toFixed(3)} ms, ratio ${(ma / mb).toFixed(3)}`);
  }
  measured.queriesSent = (await paths.queriesStarted()) - queriesBefore;
  return measured;
}

/** Where the added time goes: the median of each layer on its own, interleaved call by call. */
async function layerMedians(ctx: BenchContext, paths: Paths): Promise<Record<string, number>> {
  const layerTimes = paths.layers.map(() => [] as number[]);
  for (let i = 0; i < (ctx.quick ? 300 : 2_000); i++) {
    for (let l = 0; l < paths.layers.length; l++) layerTimes[l]!.push(await timed(paths.layers[l]![1]));
  }
  const medians = Object.fromEntries(paths.layers.map(([name], l) => [name, round(median(layerTimes[l]!), 4)]));
  ctx.progress(`  layers (median ms): ${Object.entries(medians).map(([n, v]) => `${n.split(" (")[0]} ${v}`).join(" · ")}`);
  return medians;
}

export async function overheadRatio(ctx: BenchContext): Promise<FigureResult> {
  const runs = ctx.quick ? 2 : 5;
  const calls = ctx.quick ? 500 : 2_000;
  const warmup = ctx.quick ? 200 : 1_000;
  const paths = openPaths(ctx);
  try {
    for (let i = 0; i < warmup; i++) {
      await paths.ours();
      await paths.plain();
    }
    const measured = await interleavedRuns(ctx, paths, runs, calls);
    const layers = await layerMedians(ctx, paths);
    // For reference only: the path as shipped, where a success under 1 s old is reused.
    const reuse: number[] = [];
    for (let i = 0; i < calls; i++) reuse.push(await timed(paths.asShipped));
    return overheadFigure({ runs, calls, warmup, measured, layers, reuse, notOk: paths.notOk() });
  } finally {
    await paths.close();
  }
}

function overheadFigure(m: {
  runs: number;
  calls: number;
  warmup: number;
  measured: InterleavedRuns;
  layers: Record<string, number>;
  reuse: number[];
  notOk: number;
}): FigureResult {
  const { runs, calls, layers, reuse } = m;
  const { ratios, oursMedians, plainMedians, queriesSent } = m.measured;
  const value = median(ratios);
  const oursMs = median(oursMedians);
  const plainMs = median(plainMedians);
  return {
    value: round(value, 3),
    unit: "ratio",
    runs: ratios.map((r) => round(r, 3)),
    spread: spread(ratios.map((r) => round(r, 3))),
    runsLabel: `${runs} × ${fmt(calls)} calls each`,
    display: `${value.toFixed(3)} (${oursMs.toFixed(3)} ms vs ${plainMs.toFixed(3)} ms per call)`,
    baseline: {
      value: 1,
      display: `plain pg: 1.000 (${plainMs.toFixed(3)} ms per call)`,
      what: "the same SQL and parameter through a default pg.Pool, interleaved call by call in the same process",
      runs: plainMedians.map(() => 1),
    },
    ratio: round(value, 3),
    ratioDisplay: value.toFixed(3),
    notes: [
      `overheadRatio: the layer adds ${fmtMs(oursMs - plainMs)} per call to a query QuestDB answers in ${fmtMs(plainMs)}; ` +
        `by layer (median, each including the ones before): ${Object.entries(layers).map(([n, v]) => `${n} ${v} ms`).join(", ")}. ` +
        `As shipped, a success under 1 s old is reused: ${fmtMs(median(reuse))} per call.`,
    ],
    details: {
      method:
        "in-process, sequential, interleaved ours/plain per call; ours = tRPC server-side caller over the app's resilient layer with freshForMs 0 so every call reaches QuestDB",
      callsPerRun: calls,
      warmupCalls: m.warmup,
      oursMedianMsPerRun: oursMedians.map((v) => round(v, 4)),
      plainMedianMsPerRun: plainMedians.map((v) => round(v, 4)),
      oursMedianMs: round(oursMs, 4),
      plainMedianMs: round(plainMs, 4),
      addedMedianMs: round(oursMs - plainMs, 4),
      oursP99Ms: round(percentile(m.measured.oursAll, 99), 3),
      plainP99Ms: round(percentile(m.measured.plainAll, 99), 3),
      oursCalls: runs * calls,
      oursNotOk: m.notOk,
      queriesStartedByOurs: queriesSent,
      everyCallReachedQuestdb: queriesSent === runs * calls,
      layersMedianMs: layers,
      layersNote: "the same SQL through each layer on its own, interleaved call by call after the runs; each row includes the layers above it",
      asShippedWithReuseMedianMs: round(median(reuse), 4),
      asShippedWithReuseNote: `${fmtMs(median(reuse))} median when a success under 1 s old is reused (the app's default), for reference`,
    },
  };
}
