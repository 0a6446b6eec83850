import pino from "pino";
import { Registry } from "prom-client";
import { answersQuery } from "../../harness/questdb-process";
import { parseEnv } from "../../server/env";
import { createMetrics } from "../../server/observability/metrics";
import { activeSessionsQuery } from "../../server/questdb/queries";
import { FRESH_FOR_MS, createQuestdbService, type QuestdbService } from "../../server/compose";
import { health, metricValue, metricsText, sessionsActive, type SessionsAnswer } from "../lib/app-client";
import { get, type GetResult } from "../lib/http";
import { eventually } from "../../harness/eventually";
import { fmt, fmtMs, median, percentile, round, sleep, spread } from "../../harness/stats";
import type { BenchContext, FigureResult, FigureSpec, Scenario } from "../lib/types";

/**
 * The outage figures, against the app (`next start`, default settings) over HTTP, with QuestDB
 * killed (SIGKILL) or frozen (SIGSTOP) for real.
 *
 * One kill episode gives one sample of three figures, in this order:
 * 1. killToDegradedMs — a fresh `ok` answer more than 1 s before (so the next answer, for the same
 *    input, has a cached answer but cannot be the 1 s reuse of a success), SIGKILL, then one
 *    request to the app and one to the plain-pg route, side by side; each time is from the SIGKILL
 *    to the end of the answer. With data cached, the app answers `degraded` QUESTDB_STALE_AFTER_MS
 *    after the first refused connection while its retries go on in the background.
 * 2. breakerOpenP99Ms — the app's breaker is opened (concurrent calls with other inputs), then
 *    ≥ 1,000 sequential requests, each timed from the client on loopback (an upper bound of the
 *    server's time), every answer checked to be `degraded` with the breaker open.
 * 3. recoveryMs — QuestDB restarted; from the first moment it answers `SELECT 1` (a probe every
 *    25 ms, timed at the start of the probe that succeeded) to the first `ok` the app gives a
 *    client polling every 50 ms. Side by side, the seed design — the same service built in this
 *    process with default settings but `earlyBreakerRelease: false`, so a successful health check
 *    does not let the breaker probe early — is polled the same way: it waits out the 30 s recovery.
 *
 * One hang episode gives one sample of hangToDegradedMs: a fresh `ok` more than 1 s before,
 * SIGSTOP, one request to the app and one to the plain-pg route (default pg settings: no
 * timeouts), the latter abandoned at a 30 s cap ("∞"). A frozen QuestDB refuses nothing, so the
 * app answers `degraded` at QUESTDB_SOFT_DEADLINE_MS. Then SIGCONT.
 */

const silent = pino({ level: "silent" });
const HANG_CAP_MS = 30_000;
/** The app runs with the defaults: the latency budget and retry settings the notes quote. */
const DEFAULTS = parseEnv({});
const RETRIES = DEFAULTS.QUESTDB_RETRY_DELAYS_MS.join(", ");

/** killToDegradedMs and hangToDegradedMs are measured alike: one method for both. */
const TO_DEGRADED_METHOD = {
  text:
    "the app (`next start`, default settings) and the plain-pg route are each asked once right after `SIGKILL` / " +
    "`SIGSTOP` of QuestDB; time from the signal to the end of the answer. The last `ok` for the same input is more " +
    "than 1 s old, so it is cached but not reused as is: the app answers `degraded` with it " +
    `${fmt(DEFAULTS.QUESTDB_STALE_AFTER_MS)} ms after the first refused connection (QUESTDB_STALE_AFTER_MS), or ` +
    `${fmt(DEFAULTS.QUESTDB_SOFT_DEADLINE_MS)} ms after the request when QuestDB refuses nothing because it is ` +
    "frozen (QUESTDB_SOFT_DEADLINE_MS), while its retries go on in the background; a caller with nothing cached would wait " +
    `up to ${fmt(DEFAULTS.QUESTDB_DEADLINE_MS)} ms (QUESTDB_DEADLINE_MS). The frozen baseline has no timeout: ` +
    "abandoned at 30 s.",
};

export const KILL_TO_DEGRADED: FigureSpec<"killToDegradedMs"> = {
  key: "killToDegradedMs",
  unit: "ms",
  goal: { max: 500, text: "≤ 500 ms" },
  method: TO_DEGRADED_METHOD,
};

export const HANG_TO_DEGRADED: FigureSpec<"hangToDegradedMs"> = {
  key: "hangToDegradedMs",
  unit: "ms",
  goal: { max: 1_500, text: "≤ 1,500 ms" },
  method: TO_DEGRADED_METHOD,
};

export const BREAKER_OPEN_P99: FigureSpec<"breakerOpenP99Ms"> = {
  key: "breakerOpenP99Ms",
  unit: "ms",
  goal: { max: 10, text: "≤ 10 ms" },
  method: {
    text:
      "≥ 1,000 sequential requests while the breaker is open, timed by the client over loopback " +
      "(an upper bound of server time); every answer checked `degraded` with `breaker: open`.",
  },
};

export const RECOVERY: FigureSpec<"recoveryMs"> = {
  key: "recoveryMs",
  unit: "ms",
  goal: { max: 5_000, text: "≤ 5,000 ms" },
  method: {
    text:
      "from the first `SELECT 1` QuestDB answers after its restart to the app's first `ok` (client polling every " +
      "50 ms), default 30 s breaker recovery. Beside it, the seed design (same layer, no health-check release) " +
      "polled the same way.",
  },
};
const RECOVERY_CAP_MS = 45_000;

type SeedDesign = QuestdbService;

/** The service as it was before the early release: the breaker waits its full recovery time. */
function seedDesign(pgUrl: string, httpUrl: string): SeedDesign {
  const config = parseEnv({ QUESTDB_URL: pgUrl, QUESTDB_HTTP_URL: httpUrl });
  return createQuestdbService(config, {
    log: silent,
    metrics: createMetrics(new Registry()),
    earlyBreakerRelease: false,
    dataDir: null,
  });
}

function seedCall(seed: SeedDesign, limit = 100) {
  return seed.run({
    operation: "sessions.active",
    action: "get active sessions",
    input: { limit },
    query: activeSessionsQuery(limit),
  });
}

/** QuestDB up, the app's breaker closed and `ok`, the baseline answering. */
async function waitHealthy(ctx: BenchContext): Promise<void> {
  await eventually(
    async () => {
      const h = await health(ctx.app.url);
      return h?.questdb.breaker === "closed" && h.status === "ok";
    },
    { what: "the app to be ok with its breaker closed", timeoutMs: 60_000 },
  );
  await eventually(async () => (await sessionsActive(ctx.app.url)).status === "ok", {
    what: "sessions.active to answer ok",
    timeoutMs: 30_000,
  });
  await eventually(async () => (await get(`${ctx.baseline.url}/sessions?limit=100`, 10_000)).status === 200, {
    what: "the baseline route to answer",
    timeoutMs: 30_000,
  });
}

/** Fresh answers on both sides, then more than the 1 s reuse window of quiet. */
async function primeBeforeOutage(ctx: BenchContext, seed?: SeedDesign): Promise<void> {
  const ours = await sessionsActive(ctx.app.url);
  if (ours.status !== "ok") throw new Error(`sessions.active answered ${ours.status} before the outage`);
  const plain = await get(`${ctx.baseline.url}/sessions?limit=100`);
  if (plain.status !== 200) throw new Error(`the baseline answered ${plain.status} before the outage`);
  if (seed) {
    const answer = await seedCall(seed);
    if (answer.status !== "ok") throw new Error(`the seed design answered ${answer.status} before the outage`);
  }
  await sleep(FRESH_FOR_MS + 300);
}

/** Concurrent calls with other inputs (separate flights) until the app's breaker is open. */
async function openAppBreaker(ctx: BenchContext): Promise<void> {
  const calls = Array.from({ length: 8 }, (_, i) => sessionsActive(ctx.app.url, i + 1, 15_000));
  await eventually(async () => (await health(ctx.app.url))?.questdb.breaker === "open", {
    what: "the app's breaker to open",
    timeoutMs: 15_000,
    intervalMs: 50,
  });
  await Promise.all(calls);
}

async function openSeedBreaker(seed: SeedDesign): Promise<void> {
  const calls = Array.from({ length: 8 }, (_, i) => seedCall(seed, i + 1));
  await eventually(() => seed.health().questdb.breaker === "open", {
    what: "the seed design's breaker to open",
    timeoutMs: 15_000,
    intervalMs: 20,
  });
  await Promise.all(calls);
}

function histogram(text: string, le: string): number {
  return metricValue(text, "questdb_query_duration_seconds_bucket", {
    operation: "sessions.active",
    outcome: "breaker_open",
    le,
  });
}

interface KillSample {
  killToDegradedMs: number;
  killStatus: string;
  exitAfterMs: number;
  baselineMs: number;
  baselineStatus: number;
  baselineError: string;
  breakerP99Ms: number;
  breakerP50Ms: number;
  breakerMaxMs: number;
  breakerCalls: number;
  breakerNotDegradedOpen: number;
  serverUnder1ms: number;
  serverUnder5ms: number;
  serverCount: number;
  recoveryMs: number | null;
  seedRecoveryMs: number | null;
  questdbRestartMs: number;
}

async function killEpisode(ctx: BenchContext, seed: SeedDesign, breakerCalls: number): Promise<KillSample> {
  const { questdb, app } = ctx;
  await waitHealthy(ctx);
  await primeBeforeOutage(ctx, seed);

  // 1. killToDegradedMs
  const t0 = performance.now();
  await questdb.kill();
  const exitAfterMs = performance.now() - t0;
  const [ours, plain] = await Promise.all([sessionsActive(app.url), get(`${ctx.baseline.url}/sessions?limit=100`)]);
  const killToDegradedMs = ours.http.endedAt - t0;
  const baselineMs = plain.endedAt - t0;

  // 2. breakerOpenP99Ms
  await openAppBreaker(ctx);
  const before = await metricsText(app.url);
  const times: number[] = [];
  let notDegradedOpen = 0;
  for (let i = 0; i < breakerCalls; i++) {
    const answer: SessionsAnswer = await sessionsActive(app.url);
    times.push(answer.http.ms);
    if (answer.status !== "degraded" || answer.breaker !== "open") notDegradedOpen++;
  }
  const after = await metricsText(app.url);
  const serverCount = histogram(after, "+Inf") - histogram(before, "+Inf");
  const serverUnder1ms = histogram(after, "0.001") - histogram(before, "0.001");
  const serverUnder5ms = histogram(after, "0.005") - histogram(before, "0.005");

  // 3. recoveryMs, ours and the seed design side by side
  await openSeedBreaker(seed);
  const restartAt = performance.now();
  let upAt: number | null = null;
  let stop = false;
  const probe = (async () => {
    while (!stop && upAt === null) {
      const startedAt = performance.now();
      if (await answersQuery(questdb.pgUrl, 500)) upAt = startedAt;
      else await sleep(25);
    }
  })();
  const firstOk = async (call: () => Promise<boolean>): Promise<number | null> => {
    while (!stop) {
      if (await call()) return performance.now();
      await sleep(50);
    }
    return null;
  };
  const oursOk = firstOk(async () => (await sessionsActive(app.url, 100, 10_000)).status === "ok");
  const seedOk = firstOk(async () => (await seedCall(seed)).status === "ok");
  const cap = setTimeout(() => (stop = true), RECOVERY_CAP_MS + 15_000);
  try {
    await questdb.restart();
    await probe;
    const capAfterUp = setTimeout(
      () => (stop = true),
      Math.max(0, (upAt ?? performance.now()) + RECOVERY_CAP_MS - performance.now()),
    );
    const [oursAt, seedAt] = await Promise.all([oursOk, seedOk]);
    clearTimeout(capAfterUp);
    stop = true;
    const up = upAt ?? performance.now();
    return {
      killToDegradedMs,
      killStatus: ours.status,
      exitAfterMs,
      baselineMs,
      baselineStatus: plain.status,
      baselineError: plain.error ?? plain.body.slice(0, 200),
      breakerP99Ms: percentile(times, 99),
      breakerP50Ms: percentile(times, 50),
      breakerMaxMs: Math.max(...times),
      breakerCalls,
      breakerNotDegradedOpen: notDegradedOpen,
      serverUnder1ms,
      serverUnder5ms,
      serverCount,
      recoveryMs: oursAt === null ? null : oursAt - up,
      seedRecoveryMs: seedAt === null ? null : seedAt - up,
      questdbRestartMs: up - restartAt,
    };
  } finally {
    stop = true;
    clearTimeout(cap);
    await Promise.allSettled([probe, oursOk, seedOk]);
  }
}

interface HangSample {
  hangToDegradedMs: number;
  status: string;
  baselineMs: number | null;
  baselineStatus: number;
}

async function hangEpisode(ctx: BenchContext): Promise<HangSample> {
  const { questdb, app } = ctx;
  await waitHealthy(ctx);
  await primeBeforeOutage(ctx);
  const t0 = performance.now();
  questdb.freeze();
  try {
    const [ours, plain]: [SessionsAnswer, GetResult] = await Promise.all([
      sessionsActive(app.url, 100, HANG_CAP_MS + 5_000),
      get(`${ctx.baseline.url}/sessions?limit=100`, HANG_CAP_MS),
    ]);
    return {
      hangToDegradedMs: ours.http.endedAt - t0,
      status: ours.status,
      baselineMs: plain.timedOut ? null : plain.endedAt - t0,
      baselineStatus: plain.status,
    };
  } finally {
    questdb.thaw();
  }
}

export interface OutageFigures {
  killToDegradedMs: FigureResult;
  breakerOpenP99Ms: FigureResult;
  recoveryMs: FigureResult;
}

/** Kill episodes, one sample each, with the seed design beside the app. */
async function killSamples(ctx: BenchContext, episodes: number, breakerCalls: number): Promise<KillSample[]> {
  const seed = seedDesign(ctx.questdb.pgUrl, ctx.questdb.httpUrl);
  const samples: KillSample[] = [];
  try {
    for (let i = 0; i < episodes; i++) {
      const s = await killEpisode(ctx, seed, breakerCalls);
      samples.push(s);
      ctx.progress(
        `  kill ${i + 1}/${episodes}: first answer ${fmtMs(s.killToDegradedMs)} (${s.killStatus}), plain pg ${fmtMs(s.baselineMs)} (${s.baselineStatus}) · ` +
          `breaker open p99 ${fmtMs(s.breakerP99Ms)} over ${s.breakerCalls} calls (${s.breakerNotDegradedOpen} not degraded/open) · ` +
          `recovery ${s.recoveryMs === null ? "none" : fmtMs(s.recoveryMs)}, seed design ${s.seedRecoveryMs === null ? "none" : fmtMs(s.seedRecoveryMs)}`,
      );
    }
    await waitHealthy(ctx);
  } finally {
    await seed.close();
  }
  return samples;
}

function killFigure(samples: KillSample[]): FigureResult {
  const episodes = samples.length;
  const kill = samples.map((s) => round(s.killToDegradedMs, 1));
  const killBase = samples.map((s) => round(s.baselineMs, 1));
  const killValue = median(kill);
  const killBaseValue = median(killBase);
  return {
    value: killValue,
    runs: kill,
    spread: spread(kill),
    runsLabel: `${episodes} kills`,
    display: `${fmtMs(killValue)} (${samples.map((s) => s.killStatus).every((s) => s === "degraded") ? "all degraded" : samples.map((s) => s.killStatus).join(", ")})`,
    baseline: {
      value: killBaseValue,
      display: `plain pg route: ${fmtMs(killBaseValue)} to its error (HTTP ${[...new Set(samples.map((s) => s.baselineStatus))].join("/")})`,
      what: "the plain-pg route, requested at the same moment as the app: time to its error answer",
      runs: killBase,
    },
    ratio: round(killValue / killBaseValue, 1),
    ratioDisplay: fmt(killValue / killBaseValue),
    notes: [
      `killToDegradedMs: with the last good answer cached, the app answers degraded ${fmtMs(DEFAULTS.QUESTDB_STALE_AFTER_MS)} after the first refused ` +
        `connection (QUESTDB_STALE_AFTER_MS) while its retries go on in the background; the plain route errors as soon as QuestDB's ` +
        `process is gone (${fmtMs(median(samples.map((s) => s.exitAfterMs)))} after the SIGKILL) — with no cached data to show.`,
    ],
    details: {
      measuredFrom: "the SIGKILL; the request is sent once the process is gone",
      answers: samples.map((s) => s.killStatus),
      processGoneAfterMs: samples.map((s) => round(s.exitAfterMs, 1)),
      baselineErrors: [...new Set(samples.map((s) => s.baselineError))],
      settings:
        `defaults: degraded ${DEFAULTS.QUESTDB_STALE_AFTER_MS} ms after the first connection failure when cached, soft deadline ` +
        `${DEFAULTS.QUESTDB_SOFT_DEADLINE_MS} ms; retries after ${RETRIES} ms in the background; attempt timeout ` +
        `${DEFAULTS.QUESTDB_QUERY_TIMEOUT_MS} ms; deadline ${DEFAULTS.QUESTDB_DEADLINE_MS} ms with nothing cached`,
    },
  };
}

function breakerFigure(samples: KillSample[], breakerCalls: number): FigureResult {
  const episodes = samples.length;
  const p99s = samples.map((s) => round(s.breakerP99Ms, 2));
  const p99Value = median(p99s);
  const serverCount = samples.reduce((n, s) => n + s.serverCount, 0);
  const under1 = samples.reduce((n, s) => n + s.serverUnder1ms, 0);
  const under5 = samples.reduce((n, s) => n + s.serverUnder5ms, 0);
  return {
    value: p99Value,
    runs: p99s,
    spread: spread(p99s),
    runsLabel: `${episodes} × ${fmt(breakerCalls)} calls`,
    display: `${fmtMs(p99Value)} p99 (p50 ${fmtMs(median(samples.map((s) => s.breakerP50Ms)))})`,
    baseline: { value: null, display: "—", what: "none", runs: [] },
    ratio: null,
    ratioDisplay: "—",
    details: {
      measuredAs:
        "round trip of one request at a time over loopback HTTP with keep-alive (an upper bound of the server's time)",
      p50MsPerRun: samples.map((s) => round(s.breakerP50Ms, 2)),
      maxMsPerRun: samples.map((s) => round(s.breakerMaxMs, 2)),
      answersNotDegradedWithBreakerOpen: samples.reduce((n, s) => n + s.breakerNotDegradedOpen, 0),
      serverSide: {
        source:
          'questdb_query_duration_seconds{operation="sessions.active",outcome="breaker_open"} (the resilient layer\'s time, without HTTP and tRPC)',
        observations: serverCount,
        under1msShare: serverCount ? round(under1 / serverCount, 4) : null,
        under5msShare: serverCount ? round(under5 / serverCount, 4) : null,
      },
    },
  };
}

function recoveryFigure(samples: KillSample[]): FigureResult {
  const episodes = samples.length;
  const recovered = samples.filter((s) => s.recoveryMs !== null).map((s) => round(s.recoveryMs!, 1));
  const seedRuns = samples.map((s) => (s.seedRecoveryMs === null ? null : round(s.seedRecoveryMs, 1)));
  const seedFinite = seedRuns.filter((v): v is number => v !== null);
  const recoveryValue = recovered.length ? median(recovered) : null;
  const seedValue = seedFinite.length ? median(seedFinite) : null;
  return {
    value: recoveryValue,
    runs: recovered,
    spread: recovered.length ? spread(recovered) : null,
    runsLabel: `${episodes} restarts`,
    display: recoveryValue === null ? "no ok within the cap" : fmtMs(recoveryValue),
    baseline: {
      value: seedValue,
      display:
        seedValue === null
          ? `seed design: no ok within ${RECOVERY_CAP_MS / 1000} s`
          : `seed design: ${fmtMs(seedValue)} (waits out the 30 s breaker recovery)`,
      what: "the same service with default settings but earlyBreakerRelease off (no health-check release of the breaker), polled the same way in the bench process",
      runs: seedRuns,
    },
    ratio: recoveryValue !== null && seedValue ? round(recoveryValue / seedValue, 4) : null,
    ratioDisplay: recoveryValue !== null && seedValue ? (recoveryValue / seedValue).toFixed(3) : "—",
    notes: [
      `recoveryMs: the app's breaker is released by the pool's health check (every ${fmtMs(DEFAULTS.QUESTDB_HEALTH_INTERVAL_MS)}) as soon as ` +
        `QuestDB answers, so recovery takes up to one health interval plus one query; the seed design waits out the ` +
        `${fmtMs(DEFAULTS.QUESTDB_BREAKER_RECOVERY_MS)} breaker recovery counted from the breaker's opening.`,
    ],
    details: {
      measuredFrom:
        "the start of the first SELECT 1 probe (every 25 ms) that QuestDB answered after the restart, to the end of the app's first ok answer (client polling every 50 ms)",
      questdbRestartMsPerRun: samples.map((s) => round(s.questdbRestartMs, 0)),
      settings: `defaults: breaker recovery ${DEFAULTS.QUESTDB_BREAKER_RECOVERY_MS} ms, health check every ${DEFAULTS.QUESTDB_HEALTH_INTERVAL_MS} ms`,
      unrecoveredRuns: samples.length - recovered.length,
    },
  };
}

export async function killFigures(ctx: BenchContext): Promise<OutageFigures> {
  const breakerCalls = ctx.quick ? 300 : 1_000;
  const samples = await killSamples(ctx, ctx.quick ? 2 : 5, breakerCalls);
  return {
    killToDegradedMs: killFigure(samples),
    breakerOpenP99Ms: breakerFigure(samples, breakerCalls),
    recoveryMs: recoveryFigure(samples),
  };
}

export async function hangFigure(ctx: BenchContext): Promise<FigureResult> {
  const episodes = ctx.quick ? 1 : 3;
  const samples: HangSample[] = [];
  for (let i = 0; i < episodes; i++) {
    const s = await hangEpisode(ctx);
    samples.push(s);
    ctx.progress(
      `  freeze ${i + 1}/${episodes}: first answer ${fmtMs(s.hangToDegradedMs)} (${s.status}), plain pg ` +
        `${s.baselineMs === null ? `∞ (no answer at the ${HANG_CAP_MS / 1000} s cap)` : `${fmtMs(s.baselineMs)} (${s.baselineStatus})`}`,
    );
  }
  await waitHealthy(ctx);
  const runs = samples.map((s) => round(s.hangToDegradedMs, 1));
  const value = median(runs);
  const baseRuns = samples.map((s) => (s.baselineMs === null ? null : round(s.baselineMs, 1)));
  const finite = baseRuns.filter((v): v is number => v !== null);
  // The median of the baseline counts "∞" as larger than any time.
  const sortedBase = [...baseRuns].sort((a, b) => (a === null ? 1 : b === null ? -1 : a - b));
  const baseMedian = sortedBase.length ? (sortedBase[Math.floor((sortedBase.length - 1) / 2)] ?? null) : null;
  const infinite = baseMedian === null;
  return {
    value,
    runs,
    spread: spread(runs),
    runsLabel: `${episodes} freezes`,
    display: `${fmtMs(value)} (${samples.every((s) => s.status === "degraded") ? "all degraded" : samples.map((s) => s.status).join(", ")})`,
    baseline: {
      value: infinite ? null : baseMedian,
      display: infinite
        ? `plain pg route: ∞ (${baseRuns.filter((v) => v === null).length}/${episodes} no answer at the ${HANG_CAP_MS / 1000} s cap)`
        : `plain pg route: ${fmtMs(baseMedian)} (gave up)`,
      what: `the plain-pg route with pg's default settings (no connect or query timeout), requested at the same moment; abandoned at a ${HANG_CAP_MS / 1000} s cap`,
      runs: baseRuns,
    },
    ratio: infinite ? 0 : round(value / baseMedian, 3),
    ratioDisplay: infinite ? "0 (÷ ∞)" : (value / baseMedian).toFixed(3),
    notes: [
      `hangToDegradedMs: a frozen QuestDB refuses nothing, so with the last good answer cached the app answers degraded at its ` +
        `soft deadline, ${fmtMs(DEFAULTS.QUESTDB_SOFT_DEADLINE_MS)} after the request (QUESTDB_SOFT_DEADLINE_MS), while the attempt ` +
        `and its retries go on in the background; the plain route, with pg's defaults, does not answer at all.`,
    ],
    details: {
      measuredFrom: "the SIGSTOP; the requests are sent right after it",
      answers: samples.map((s) => s.status),
      baselineFiniteRuns: finite,
      capMs: HANG_CAP_MS,
      settings:
        `defaults: soft deadline ${DEFAULTS.QUESTDB_SOFT_DEADLINE_MS} ms when cached (a frozen QuestDB refuses nothing); attempt timeout ` +
        `${DEFAULTS.QUESTDB_QUERY_TIMEOUT_MS} ms, retries after ${RETRIES} ms in the background; deadline ${DEFAULTS.QUESTDB_DEADLINE_MS} ms with nothing cached`,
    },
  };
}

/** The kill episodes' entry in bench/catalogue.ts (BENCH_ONLY=kill). */
export const killScenario: Scenario<"killToDegradedMs" | "breakerOpenP99Ms" | "recoveryMs"> = {
  name: "kill",
  figures: [KILL_TO_DEGRADED, BREAKER_OPEN_P99, RECOVERY],
  title: "kill episodes (killToDegradedMs, breakerOpenP99Ms, recoveryMs)",
  run: killFigures,
};

/** The freeze episodes' entry in bench/catalogue.ts (BENCH_ONLY=freeze). */
export const freezeScenario: Scenario<"hangToDegradedMs"> = {
  name: "freeze",
  figures: [HANG_TO_DEGRADED],
  title: "freeze episodes (hangToDegradedMs)",
  run: async (ctx) => ({ hangToDegradedMs: await hangFigure(ctx) }),
};
