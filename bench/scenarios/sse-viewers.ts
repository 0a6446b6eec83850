import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import pg from "pg";
import { waitForWalApplied } from "../../demo/wal";
import { parseEnv } from "../../server/env";
import { processTree, rssKb } from "../../harness/proc";
import { fmt, percentile, round, sleep, spread } from "../../harness/stats";
import { logSize } from "../../harness/log-file";
import { activeSessionsQuery } from "../../server/questdb/queries";
import { metricValue, sessionsActive, sessionsUrl } from "../lib/app-client";
import { get } from "../lib/http";
import { failedFigure, type FigureKey } from "../lib/report";
import { countExecutions } from "../lib/questdb-log";
import { closeViewerSockets, getText, openSseViewers, type SseViewer } from "../lib/sse-viewer";
import type { BenchContext, FigureResult, Figures, Scenario } from "../lib/types";
import { pollAsViewers, type ViewerPolls } from "../lib/viewer-poller";

/**
 * sseViewers: live viewers over server-sent events against polling viewers, on the one app
 * instance. For 100, 500 and 2,000 viewers, first that many subscribers to `sessions.onActive`
 * (plain node:http streams, bench/lib/sse-viewer.ts), then as many viewers polling
 * `sessions.active` every 2 s (bench/lib/viewer-poller.ts, one per viewer so each has its own
 * phase and identity), both with limit 100. Over a fixed window after all are connected: the app's
 * CPU (% of one core, its process tree from /proc) and RSS, QuestDB queries per second from the
 * app's `questdb_queries_started_total`, and the update delay: new running sessions are inserted
 * into `session_events` at known times in the window (a row visible to queries within
 * milliseconds, checked on a separate connection), and for each write and each viewer the time
 * from the INSERT's acknowledgement to the first event (SSE) or poll answer (polling) naming the
 * new session. Stream failures, failed polls and viewers that saw no write are counted.
 *
 * The viewers run in this process, on the same 2 cores as the app and QuestDB: client-side CPU is
 * reported beside the app's, and the delay includes the client's own time to handle an event.
 */

const LIMIT = 100;
const POLL_INTERVAL_MS = 2_000;
/** Polling viewers run this long before the window, so each has answered at least once. */
const POLL_WARM_UP_MS = 3_000;
/** A poll unanswered this long counts as failed (a saturated app queues requests for longer). */
const POLL_TIMEOUT_MS = 15_000;
/** After the window, until every viewer has seen every write (or this much later). */
const GRACE_MS = 5_000;

interface Plan {
  sizes: number[];
  windowMs: number;
  /** When, from the window's start, a new session is inserted. */
  writeOffsetsMs: number[];
}

/**
 * Writes 2.3 s apart: against the 2 s polling interval (and a live loop of 1 or 2 s) they land at
 * well-spread phases, and the last one leaves the grace period for the slowest poll.
 */
const offsets = (count: number) => Array.from({ length: count }, (_, k) => 1_000 + k * 2_300);
const FULL: Plan = { sizes: [100, 500, 2_000], windowMs: 20_000, writeOffsetsMs: offsets(8) };
const QUICK: Plan = { sizes: [100, 500], windowMs: 10_000, writeOffsetsMs: offsets(4) };

/** The headline figures: delays at this size, load at the largest one measured. */
const DELAY_SIZE = 500;

type Mode = "sse" | "polling";

interface WriteRecord {
  sessionId: string;
  /** performance.now() when the INSERT was acknowledged: the reference of every delay. */
  committedAt: number | null;
  insertMs: number | null;
  /** From the acknowledgement until a plain query on another connection sees the row (WAL apply). */
  visibleAfterMs: number | null;
  error?: string;
}

/**
 * One write's delays over the viewers; `spreadMs` is its last sighting minus its first (an SSE
 * fan-out's length). The delay splits at the `fetchedAt` of the answer in which the viewer first
 * saw the session: `fetchLagMs` (write → the server's query that read the row: the live loop's
 * cadence, or when a poll found no fresh answer to reuse) and `deliveryMs` (that query → the
 * viewer has it: SSE fan-out, queueing and transport; for polling also the age of a reused answer).
 */
interface PerWrite {
  p50: number | null;
  p99: number | null;
  spreadMs: number | null;
  seenBy: number;
  fetchLagMs: { p50: number; max: number } | null;
  deliveryMs: { p50: number; p99: number } | null;
}

/** Over every sighting: write → the server's fetch, and that fetch → the viewer. */
interface DelaySplit {
  fetchLagMs: { p50: number; p99: number } | null;
  deliveryMs: { p50: number; p99: number } | null;
}

const FETCHED_AT = /"fetchedAt":"([^"]+)"/;

/** Which viewer first saw which write, when, and when the server had fetched that answer. */
class Sightings {
  readonly writes: WriteRecord[] = [];
  private readonly seen: Float64Array[];
  /** The sighting's answer's fetchedAt, on performance.now()'s time line. */
  private readonly fetched: Float64Array[];

  constructor(
    readonly viewers: number,
    maxWrites: number,
  ) {
    this.seen = Array.from({ length: viewers }, () => new Float64Array(maxWrites).fill(NaN));
    this.fetched = Array.from({ length: viewers }, () => new Float64Array(maxWrites).fill(NaN));
  }

  note(viewer: number, text: string, at: number): void {
    const row = this.seen[viewer]!;
    for (let w = 0; w < this.writes.length; w++) {
      if (!Number.isNaN(row[w]!) || !text.includes(this.writes[w]!.sessionId)) continue;
      row[w] = at;
      const fetchedAt = FETCHED_AT.exec(text)?.[1];
      if (fetchedAt) this.fetched[viewer]![w] = Date.parse(fetchedAt) - (Date.now() - performance.now());
    }
  }

  private committed(): number[] {
    return this.writes.flatMap((write, w) => (write.committedAt !== null ? [w] : []));
  }

  allSeen(): boolean {
    const writes = this.committed();
    return this.seen.every((row) => writes.every((w) => !Number.isNaN(row[w]!)));
  }

  /** Delays (ms) of every sighting of a committed write, and what was never seen. */
  summary(): {
    delays: number[];
    missed: number;
    viewersWithNoUpdate: number;
    perWrite: PerWrite[];
    split: DelaySplit;
  } {
    const writes = this.committed();
    const delays: number[] = [];
    let missed = 0;
    let viewersWithNoUpdate = 0;
    const perWriteDelays: number[][] = this.writes.map(() => []);
    const perWriteLags: number[][] = this.writes.map(() => []);
    const perWriteDelivery: number[][] = this.writes.map(() => []);
    this.seen.forEach((row, viewer) => {
      let any = false;
      for (const w of writes) {
        const at = row[w]!;
        if (Number.isNaN(at)) {
          missed++;
          continue;
        }
        any = true;
        const committedAt = this.writes[w]!.committedAt!;
        const delay = at - committedAt;
        delays.push(delay);
        perWriteDelays[w]!.push(delay);
        const fetched = this.fetched[viewer]![w]!;
        if (!Number.isNaN(fetched)) {
          perWriteLags[w]!.push(fetched - committedAt);
          perWriteDelivery[w]!.push(at - fetched);
        }
      }
      if (!any && writes.length > 0) viewersWithNoUpdate++;
    });
    const max = (d: number[]) => d.reduce((a, b) => Math.max(a, b), -Infinity);
    const min = (d: number[]) => d.reduce((a, b) => Math.min(a, b), Infinity);
    const perWrite = perWriteDelays.map((d, w) => {
      const lags = perWriteLags[w]!;
      const delivery = perWriteDelivery[w]!;
      return {
        p50: d.length ? round(percentile(d, 50), 1) : null,
        p99: d.length ? round(percentile(d, 99), 1) : null,
        spreadMs: d.length ? round(max(d) - min(d), 1) : null,
        seenBy: d.length,
        fetchLagMs: lags.length ? { p50: round(percentile(lags, 50), 1), max: round(max(lags), 1) } : null,
        deliveryMs: delivery.length
          ? { p50: round(percentile(delivery, 50), 1), p99: round(percentile(delivery, 99), 1) }
          : null,
      };
    });
    const allDelivery = perWriteDelivery.flat();
    const allLags = perWriteLags.flat();
    const split = {
      fetchLagMs: allLags.length
        ? { p50: round(percentile(allLags, 50), 1), p99: round(percentile(allLags, 99), 1) }
        : null,
      deliveryMs: allDelivery.length
        ? { p50: round(percentile(allDelivery, 50), 1), p99: round(percentile(allDelivery, 99), 1) }
        : null,
    };
    return { delays, missed, viewersWithNoUpdate, perWrite, split };
  }
}

// ---------------------------------------------------------------------------------------------
// The app process from /proc: CPU time and resident memory of its tree.

const CLOCK_TICKS = (() => {
  const result = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const ticks = Number(result.stdout?.trim());
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
})();

/** User + system CPU seconds of the process and its descendants (/proc/<pid>/stat utime, stime). */
function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / CLOCK_TICKS;
}

function treeRssMb(pid: number): number {
  return round(processTree(pid).reduce((sum, p) => sum + (rssKb(p) ?? 0), 0) / 1024, 1);
}

interface CounterSample {
  sessionsActive: number;
  total: number;
  /** performance.now() when the answer arrived: under load the request waits its turn, and the handler reads the counter just before answering. */
  at: number;
}

/** The app's query counters, or why not (a saturated app may answer /api/metrics late: up to 60 s is waited). */
async function queryCounts(appUrl: string): Promise<CounterSample | string> {
  const answer = await get(`${appUrl}/api/metrics`, 60_000);
  if (answer.status !== 200) return `GET /api/metrics: ${answer.status} ${answer.error ?? answer.body.slice(0, 100)}`;
  return {
    sessionsActive: metricValue(answer.body, "questdb_queries_started_total", { operation: "sessions.active" }),
    total: metricValue(answer.body, "questdb_queries_started_total"),
    at: answer.endedAt,
  };
}

// ---------------------------------------------------------------------------------------------
// Writes

interface Db {
  writer: pg.Client;
  reader: pg.Client;
  pgUrl: string;
}

async function connect(pgUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 5_000, query_timeout: 10_000 });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

const INSERT_SESSION = `INSERT INTO session_events (ts, session_id, strategy, symbol, mode, status, pnl, started_at)
VALUES (now(), $1, 'bench-sse-viewers', 'BTC-USD', 'paper', $2, 0.0, now())`;

/** Inserts a new running session (registered first, so a sighting can never precede it) and times its visibility. */
async function writeSession(db: Db, sightings: Sightings, sessionId: string): Promise<void> {
  const record: WriteRecord = { sessionId, committedAt: null, insertMs: null, visibleAfterMs: null };
  sightings.writes.push(record);
  const sent = performance.now();
  try {
    await db.writer.query(INSERT_SESSION, [sessionId, "running"]);
  } catch (error) {
    record.error = error instanceof Error ? error.message : String(error);
    return;
  }
  const committedAt = (record.committedAt = performance.now());
  record.insertMs = round(committedAt - sent, 1);
  const deadline = committedAt + 10_000;
  while (performance.now() < deadline) {
    const result = await db.reader
      .query<{ n: string }>("SELECT count() AS n FROM session_events WHERE session_id = $1", [sessionId])
      .catch(() => null);
    if (Number(result?.rows[0]?.n ?? 0) > 0) {
      record.visibleAfterMs = round(performance.now() - committedAt, 1);
      return;
    }
    await sleep(10);
  }
}

/** Marks the phase's sessions stopped, so every phase starts from the same active set. */
async function stopSessions(db: Db, writes: WriteRecord[]): Promise<void> {
  for (const write of writes)
    await db.writer.query(INSERT_SESSION, [write.sessionId, "stopped"]).catch(() => undefined);
  await waitForWalApplied(db.pgUrl, ["session_events"], 20_000);
}

// ---------------------------------------------------------------------------------------------
// One phase: N viewers of one mode, one measured window

interface Window {
  seconds: number;
  appCpuPercent: number;
  /** This process (the viewers) over the same window, % of one core. */
  benchCpuPercent: number;
  appRssMb: { before: number; max: number; end: number };
  /**
   * From the app's counter, read at the window's start and end (the rate over the two answers'
   * arrival times, which a saturated app delays); null with `error` when /api/metrics did not
   * answer. `questdbLogged`: QuestDB's own `QueryProgress exe` lines of the app's SQL between the
   * log's sizes at the window's start and end (it logs asynchronously: a cross-check).
   */
  queries: {
    sessionsActive: number | null;
    total: number | null;
    perSecond: number | null;
    counterSeconds: number | null;
    error?: string;
    questdbLogged: number;
    questdbLoggedPerSecond: number;
  };
  loadAverage: { start: number[]; end: number[] };
  startedAt: number;
  endedAt: number;
}

const loadAverage = () => os.loadavg().map((l) => round(l, 2));

/** The measured window: snapshots before and after, the writes at their offsets, RSS sampled every 500 ms. */
async function measureWindow(
  ctx: BenchContext,
  db: Db,
  sightings: Sightings,
  plan: Plan,
  label: string,
): Promise<Window> {
  const pid = ctx.app.pid;
  const rssBefore = treeRssMb(pid);
  // Not awaited: a saturated app would otherwise hold the window's start back.
  const q0 = queryCounts(ctx.app.url);
  const log0 = logSize(ctx.questdb.logFile);
  const load0 = loadAverage();
  const bench0 = process.cpuUsage();
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  let rssMax = rssBefore;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, treeRssMb(pid))), 500);
  const writes = plan.writeOffsetsMs.map(async (offset, k) => {
    await sleep(Math.max(0, t0 + offset - performance.now()));
    await writeSession(db, sightings, `${label}-${k + 1}-${Math.random().toString(36).slice(2, 8)}`);
  });
  await sleep(Math.max(0, t0 + plan.windowMs - performance.now()));
  const cpu1 = cpuSeconds(pid);
  const t1 = performance.now();
  const bench1 = process.cpuUsage(bench0);
  const log1 = logSize(ctx.questdb.logFile);
  clearInterval(sampler);
  const q1 = queryCounts(ctx.app.url);
  const rssEnd = treeRssMb(pid);
  await Promise.all(writes);
  const seconds = (t1 - t0) / 1000;
  const [c0, c1] = await Promise.all([q0, q1]);
  const logged = countExecutions(ctx.questdb.logFile, log0, log1, { app: activeSessionsQuery(LIMIT).sql }).app ?? 0;
  const counted = typeof c0 === "string" || typeof c1 === "string" ? null : { c0, c1, seconds: (c1.at - c0.at) / 1000 };
  const queries: Window["queries"] = counted
    ? {
        sessionsActive: counted.c1.sessionsActive - counted.c0.sessionsActive,
        total: counted.c1.total - counted.c0.total,
        perSecond: round((counted.c1.sessionsActive - counted.c0.sessionsActive) / counted.seconds, 3),
        counterSeconds: round(counted.seconds, 2),
        questdbLogged: logged,
        questdbLoggedPerSecond: round(logged / seconds, 3),
      }
    : {
        sessionsActive: null,
        total: null,
        perSecond: null,
        counterSeconds: null,
        error: [c0, c1].filter((c): c is string => typeof c === "string").join("; "),
        questdbLogged: logged,
        questdbLoggedPerSecond: round(logged / seconds, 3),
      };
  return {
    seconds: round(seconds, 2),
    appCpuPercent: round(((cpu1 - cpu0) / seconds) * 100, 1),
    benchCpuPercent: round(((bench1.user + bench1.system) / 1e6 / seconds) * 100, 1),
    appRssMb: { before: rssBefore, max: Math.max(rssMax, rssEnd), end: rssEnd },
    queries,
    loadAverage: { start: load0, end: loadAverage() },
    startedAt: t0,
    endedAt: t1,
  };
}

async function graceUntilSeen(sightings: Sightings): Promise<number> {
  const start = performance.now();
  while (!sightings.allSeen() && performance.now() - start < GRACE_MS) await sleep(100);
  return round(performance.now() - start, 0);
}

export interface PhaseResult {
  mode: Mode;
  viewers: number;
  window: Omit<Window, "startedAt" | "endedAt">;
  writes: WriteRecord[];
  delayMs: { p50: number; p99: number; min: number; max: number; sightings: number } | null;
  delaySplit: DelaySplit;
  perWrite: PerWrite[];
  /** (viewer, write) pairs never seen by the end of the grace period. */
  missed: number;
  viewersWithNoUpdate: number;
  /** SSE: streams that failed, ended or never delivered a first answer; polling: polls that failed or were not ok. */
  failures: number;
  failureWhy: Record<string, number>;
  graceMs: number;
  sse?: {
    connectSeconds: number;
    messagesPerViewer: { min: number; median: number; max: number };
    pingsPerViewer: number;
  };
  /** Polls are counted when they end; a failed one may have been asked up to POLL_TIMEOUT_MS before. */
  polling?: {
    polls: number;
    pollsInWindow: number;
    pollsPerSecond: number;
    failuresInWindow: number;
    failuresBeforeWindow: number;
  };
}

function finish(
  mode: Mode,
  viewers: number,
  window: Window,
  sightings: Sightings,
  graceMs: number,
  failures: number,
  failureWhy: Record<string, number>,
): PhaseResult {
  const { delays, missed, viewersWithNoUpdate, perWrite, split } = sightings.summary();
  const { startedAt: _s, endedAt: _e, ...shown } = window;
  for (const write of sightings.writes)
    if (write.error) failureWhy[`write failed: ${write.error}`] = (failureWhy[`write failed: ${write.error}`] ?? 0) + 1;
  return {
    mode,
    viewers,
    window: shown,
    writes: sightings.writes.map((w) => ({
      ...w,
      committedAt: w.committedAt === null ? null : round(w.committedAt - window.startedAt, 1),
    })),
    delayMs: delays.length
      ? {
          p50: round(percentile(delays, 50), 1),
          p99: round(percentile(delays, 99), 1),
          min: round(
            delays.reduce((a, b) => Math.min(a, b), Infinity),
            1,
          ),
          max: round(
            delays.reduce((a, b) => Math.max(a, b), -Infinity),
            1,
          ),
          sightings: delays.length,
        }
      : null,
    delaySplit: split,
    perWrite,
    missed,
    viewersWithNoUpdate,
    failures: failures + sightings.writes.filter((w) => w.error).length,
    failureWhy,
    graceMs,
  };
}

function liveUrl(appUrl: string): string {
  return `${appUrl}/api/trpc/sessions.onActive?input=${encodeURIComponent(JSON.stringify({ limit: LIMIT }))}`;
}

async function ssePhase(ctx: BenchContext, db: Db, plan: Plan, size: number): Promise<PhaseResult> {
  const sightings = new Sightings(size, plan.writeOffsetsMs.length);
  const t = performance.now();
  let viewers: SseViewer[] = [];
  try {
    viewers = await openSseViewers(
      size,
      liveUrl(ctx.app.url),
      (data, at, viewer) => sightings.note(viewer.index, data, at),
      { batch: 200, timeoutMs: 30_000 },
    );
    const connectSeconds = round((performance.now() - t) / 1000, 2);
    await sleep(1_000);
    const window = await measureWindow(ctx, db, sightings, plan, `bench-sse-${size}`);
    const graceMs = await graceUntilSeen(sightings);
    const failureWhy: Record<string, number> = {};
    let failures = 0;
    for (const viewer of viewers) {
      const why = viewer.failure ?? (viewer.readyAt === null ? "no first answer within 30 s" : null);
      if (!why) continue;
      failures++;
      failureWhy[why] = (failureWhy[why] ?? 0) + 1;
    }
    const messages = spread(viewers.map((v) => v.messages));
    const pings = viewers.reduce((s, v) => s + v.pings, 0) / viewers.length;
    return {
      ...finish("sse", size, window, sightings, graceMs, failures, failureWhy),
      sse: { connectSeconds, messagesPerViewer: messages, pingsPerViewer: round(pings, 1) },
    };
  } finally {
    for (const viewer of viewers) viewer.close();
    await stopSessions(db, sightings.writes);
  }
}

async function pollingPhase(ctx: BenchContext, db: Db, plan: Plan, size: number): Promise<PhaseResult> {
  const sightings = new Sightings(size, plan.writeOffsetsMs.length);
  const url = sessionsUrl(ctx.app.url, LIMIT);
  const answeredAt: number[] = [];
  const failedAt: number[] = [];
  const durationMs = POLL_WARM_UP_MS + plan.windowMs + GRACE_MS;
  try {
    const polling = Promise.all(
      Array.from({ length: size }, (_, viewer) =>
        pollAsViewers(1, POLL_INTERVAL_MS, durationMs, async () => {
          const answer = await getText(url, POLL_TIMEOUT_MS);
          answeredAt.push(answer.endedAt);
          if (answer.status !== 200) {
            failedAt.push(answer.endedAt);
            return `http_${answer.status}: ${answer.error ?? answer.body.slice(0, 200)}`;
          }
          sightings.note(viewer, answer.body, answer.endedAt);
          // The envelope's first "status" is the answer's (a session has no such field).
          const status = /"status":"(\w+)"/.exec(answer.body)?.[1] ?? "unreadable";
          if (status !== "ok") failedAt.push(answer.endedAt);
          return status === "ok" ? null : status;
        }),
      ),
    );
    await sleep(POLL_WARM_UP_MS);
    const window = await measureWindow(ctx, db, sightings, plan, `bench-poll-${size}`);
    const graceMs = await graceUntilSeen(sightings);
    const runs: ViewerPolls[] = await polling;
    const polls = runs.reduce((s, r) => s + r.polls, 0);
    const failureWhy: Record<string, number> = {};
    for (const run of runs)
      for (const [why, n] of Object.entries(run.notOkWhy)) failureWhy[why] = (failureWhy[why] ?? 0) + n;
    const failures = runs.reduce((s, r) => s + r.notOk, 0);
    const inWindow = (at: number) => at >= window.startedAt && at <= window.endedAt;
    const pollsInWindow = answeredAt.filter(inWindow).length;
    return {
      ...finish("polling", size, window, sightings, graceMs, failures, failureWhy),
      polling: {
        polls,
        pollsInWindow,
        pollsPerSecond: round(pollsInWindow / window.seconds, 1),
        failuresInWindow: failedAt.filter(inWindow).length,
        failuresBeforeWindow: failedAt.filter((at) => at < window.startedAt).length,
      },
    };
  } finally {
    closeViewerSockets();
    await stopSessions(db, sightings.writes);
  }
}

// ---------------------------------------------------------------------------------------------
// Figures

function describe(phase: PhaseResult): string {
  const d = phase.delayMs;
  const { fetchLagMs, deliveryMs } = phase.delaySplit;
  return (
    `${phase.mode} × ${fmt(phase.viewers)}: delay p50 ${d ? fmt(d.p50) : "—"} / p99 ${d ? fmt(d.p99) : "—"} ms ` +
    `(write → fetch p50 ${fetchLagMs ? fmt(fetchLagMs.p50) : "—"} ms, fetch → viewer p50 ${deliveryMs ? fmt(deliveryMs.p50) : "—"} / p99 ` +
    `${deliveryMs ? fmt(deliveryMs.p99) : "—"} ms), app CPU ${fmt(phase.window.appCpuPercent)} %, RSS ${fmt(phase.window.appRssMb.max)} MB, ` +
    `${phase.window.queries.perSecond === null ? `? (${phase.window.queries.error})` : fmt(phase.window.queries.perSecond)} queries/s ` +
    `(QuestDB log ${fmt(phase.window.queries.questdbLoggedPerSecond)}/s), bench CPU ${fmt(phase.window.benchCpuPercent)} %, ` +
    `${phase.failures} failures, ${phase.viewersWithNoUpdate} viewers without an update, ${phase.missed} missed`
  );
}

function figure(
  key: FigureKey,
  unit: string,
  ours: number | null,
  theirs: number | null,
  label: string,
  display: (v: number) => string,
  baselineWhat: string,
  details: Record<string, unknown>,
): FigureResult {
  if (ours === null) return { ...failedFigure(key, "not measured (see details.sseViewers)"), details };
  return {
    value: ours,
    unit,
    runs: [ours],
    spread: spread([ours]),
    runsLabel: label,
    display: display(ours),
    baseline: {
      value: theirs,
      display: theirs === null ? "—" : `polling: ${display(theirs)}`,
      what: baselineWhat,
      runs: theirs === null ? [] : [theirs],
    },
    ratio: theirs ? round(ours / theirs, 3) : null,
    ratioDisplay: theirs ? (ours / theirs).toFixed(3) : "—",
    details,
  };
}

/** Until the app answers `sessions.active` ok (after the outage scenarios, its breaker may still be closing). */
async function appAnswersOk(ctx: BenchContext, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = "";
  while (performance.now() < deadline) {
    const answer = await sessionsActive(ctx.app.url, LIMIT, 10_000);
    if (answer.status === "ok") return;
    last = `${answer.status}: ${answer.message ?? ""}`;
    await sleep(500);
  }
  throw new Error(`the app did not answer sessions.active ok within ${timeoutMs / 1000} s (last: ${last})`);
}

export async function sseViewerFigures(ctx: BenchContext): Promise<Figures> {
  const base = ctx.quick ? QUICK : FULL;
  // BENCH_SSE_SIZES=2000 BENCH_SSE_MODES=sse: one corner of the grid, when working on it.
  const sizes = (process.env.BENCH_SSE_SIZES ?? "")
    .split(",")
    .map(Number)
    .filter((n) => n > 0);
  const plan: Plan = sizes.length ? { ...base, sizes } : base;
  const modes = (process.env.BENCH_SSE_MODES ?? "").split(",").filter((m) => m === "sse" || m === "polling") as Mode[];
  await appAnswersOk(ctx);
  const db: Db = {
    writer: await connect(ctx.questdb.pgUrl),
    reader: await connect(ctx.questdb.pgUrl),
    pgUrl: ctx.questdb.pgUrl,
  };
  const phases: PhaseResult[] = [];
  const phaseErrors: { mode: Mode; viewers: number; error: string }[] = [];
  try {
    for (const size of plan.sizes) {
      for (const mode of modes.length ? modes : (["sse", "polling"] as const)) {
        await sleep(1_500); // the previous phase's sockets close and its last reuse window passes
        try {
          const phase = mode === "sse" ? await ssePhase(ctx, db, plan, size) : await pollingPhase(ctx, db, plan, size);
          phases.push(phase);
          ctx.progress(`  ${describe(phase)}`);
        } catch (error) {
          // One phase failing leaves the others' figures standing.
          const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
          phaseErrors.push({ mode, viewers: size, error: message });
          ctx.progress(`  ${mode} × ${fmt(size)}: FAILED — ${message}`);
        }
      }
    }
  } finally {
    await Promise.all([db.writer.end().catch(() => undefined), db.reader.end().catch(() => undefined)]);
  }

  const at = (mode: Mode, size: number) => phases.find((p) => p.mode === mode && p.viewers === size);
  const delaySize = plan.sizes.includes(DELAY_SIZE) ? DELAY_SIZE : plan.sizes[plan.sizes.length - 1]!;
  const loadSize = plan.sizes[plan.sizes.length - 1]!;
  const window = `${plan.windowMs / 1000} s window, ${plan.writeOffsetsMs.length} writes`;
  const sseProblems = phases.filter((p) => p.mode === "sse" && (p.failures || p.viewersWithNoUpdate || p.missed));
  const pollingProblems = phases.filter(
    (p) => p.mode === "polling" && (p.failures || p.viewersWithNoUpdate || p.missed),
  );
  const notes = [
    ...phaseErrors.map(
      (e) => `sseViewers: the ${e.mode} phase with ${fmt(e.viewers)} viewers failed: ${e.error.split("\n")[0]}`,
    ),
    ...sseProblems.map((p) => `sseViewers: ${describe(p)} — ${JSON.stringify(p.failureWhy)}`),
    ...pollingProblems.map(
      (p) =>
        `sseViewers (polling side): ${fmt(p.failures)} of ${fmt(p.polling?.polls ?? 0)} polls of ${fmt(p.viewers)} viewers failed ` +
        `(${fmt(p.polling?.failuresInWindow ?? 0)} in the window) — ${JSON.stringify(p.failureWhy)}; past what the app can serve, its delay, ` +
        `CPU and queries/s are an overloaded app's. ${describe(p)}`,
    ),
    `sseViewers: the viewers run in the benchmark's own Node process on the same ${os.cpus().length} cores as the app and QuestDB ` +
      `(bench CPU beside app CPU in details.sseViewers); one window per size and mode, so expect noise from a shared machine.`,
  ];
  const sseViewers = {
    liveIntervalMs: Number(ctx.appEnv.LIVE_INTERVAL_MS ?? parseEnv({}).LIVE_INTERVAL_MS),
    pollIntervalMs: POLL_INTERVAL_MS,
    limit: LIMIT,
    windowMs: plan.windowMs,
    writeOffsetsMs: plan.writeOffsetsMs,
    graceMs: GRACE_MS,
    delayFrom:
      "the INSERT's acknowledgement (pg) of a new running session to the first SSE data event / poll answer naming it, per viewer",
    cpu: "utime + stime of the app's process tree (/proc/<pid>/stat) over the window, % of one core",
    queries:
      'questdb_queries_started_total{operation="sessions.active"} at GET /api/metrics at the window\'s start and end, over the time between ' +
      "the two answers; QuestDB's `QueryProgress exe` log lines of the app's SQL in the window beside it",
    phases,
    phaseErrors,
  };
  const pick = (mode: Mode, size: number) => {
    const p = at(mode, size);
    return p
      ? {
          viewers: p.viewers,
          delayMs: p.delayMs,
          appCpuPercent: p.window.appCpuPercent,
          queriesPerSecond: p.window.queries.perSecond,
          failures: p.failures,
        }
      : null;
  };
  const details = (size: number) => ({
    viewers: size,
    sse: pick("sse", size),
    polling: pick("polling", size),
    all: "details.sseViewers",
  });
  const sseFailures = [
    ...sseProblems.map(
      (p) => `${fmt(p.viewers)}: ${p.failures} failures, ${p.viewersWithNoUpdate} without update, ${p.missed} missed`,
    ),
    ...phaseErrors.filter((e) => e.mode === "sse").map((e) => `${fmt(e.viewers)}: ${e.error.split("\n")[0]}`),
  ];
  const error = sseFailures.length ? `SSE viewers failed or missed updates: ${sseFailures.join("; ")}` : undefined;

  const sseD = at("sse", delaySize);
  const pollD = at("polling", delaySize);
  const sseL = at("sse", loadSize);
  const pollL = at("polling", loadSize);
  const ms = (v: number) => `${fmt(v)} ms`;
  const p50 = figure(
    "sseUpdateDelayP50Ms",
    "ms",
    sseD?.delayMs?.p50 ?? null,
    pollD?.delayMs?.p50 ?? null,
    `1 × ${window}, ${fmt(delaySize)} viewers`,
    ms,
    `${fmt(delaySize)} viewers polling sessions.active every 2 s`,
    details(delaySize),
  );
  const p99 = figure(
    "sseUpdateDelayP99Ms",
    "ms",
    sseD?.delayMs?.p99 ?? null,
    pollD?.delayMs?.p99 ?? null,
    `1 × ${window}, ${fmt(delaySize)} viewers`,
    ms,
    `${fmt(delaySize)} viewers polling sessions.active every 2 s`,
    details(delaySize),
  );
  const qps = figure(
    "sseQueriesPerSecond",
    "queries/s",
    sseL?.window.queries.perSecond ?? null,
    pollL?.window.queries.perSecond ?? null,
    `1 × ${window}, ${fmt(loadSize)} viewers`,
    (v) => fmt(v),
    `${fmt(loadSize)} viewers polling sessions.active every 2 s`,
    details(loadSize),
  );
  const cpu = figure(
    "sseCpuPercent",
    "% of one core",
    sseL?.window.appCpuPercent ?? null,
    pollL?.window.appCpuPercent ?? null,
    `1 × ${window}, ${fmt(loadSize)} viewers`,
    (v) => `${fmt(v)} %`,
    `${fmt(loadSize)} viewers polling sessions.active every 2 s`,
    details(loadSize),
  );
  p50.reportDetails = { sseViewers };
  p50.notes = notes;
  const figures = { sseUpdateDelayP50Ms: p50, sseUpdateDelayP99Ms: p99, sseQueriesPerSecond: qps, sseCpuPercent: cpu };
  if (error) for (const [key, f] of Object.entries(figures)) f.error = `${key}: ${error}`;
  return figures;
}

/** The scenario's entry in bench/run.ts's table (BENCH_ONLY=sseViewers). */
export const sseViewersScenario: Scenario = {
  name: "sseViewers",
  keys: ["sseUpdateDelayP50Ms", "sseUpdateDelayP99Ms", "sseQueriesPerSecond", "sseCpuPercent"],
  title: "sseViewers (100 / 500 / 2,000 SSE subscribers vs as many polling viewers: delay, CPU, RSS, queries/s)",
  run: sseViewerFigures,
};
