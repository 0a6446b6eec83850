import { CANDLE_INTERVALS, TRADE_SYMBOLS } from "../contract/market";
import type { Rng } from "../harness/prng";

/**
 * The polling clients of the soak and what they saw. Every request is valid, so every answer
 * must be HTTP 200 carrying the contract's union (or the health object), with a non-empty message
 * whenever the status is not `ok`.
 */

export const DATA_PROCEDURES = ["sessions.active", "market.candles"] as const;
export type DataProcedure = (typeof DATA_PROCEDURES)[number];

/** What a client asks for: the three procedures, GET /api/health, and the page's batched call. */
export const KINDS = ["sessions.active", "market.candles", "health.status", "/api/health", "batch"] as const;
export type Kind = (typeof KINDS)[number];

interface Call {
  procedure: DataProcedure | "health.status";
  input: Record<string, unknown> | undefined;
}

/** Half the inputs come from a small hot set (kept in the cache, so outages answer `degraded`), half from the whole range (fills the cache). */
function sessionsInput(rng: Rng): Record<string, unknown> | undefined {
  if (rng.chance(0.5)) {
    const hot = rng.int(0, 3);
    return hot === 0 ? undefined : { limit: [10, 50, 100][hot - 1]! };
  }
  return { limit: rng.int(1, 500) };
}

function candlesInput(rng: Rng): Record<string, unknown> {
  const input: Record<string, unknown> = { symbol: rng.pick(TRADE_SYMBOLS), interval: rng.pick(CANDLE_INTERVALS) };
  if (rng.chance(0.5)) {
    const hot = rng.int(0, 2);
    if (hot > 0) input.limit = [60, 240][hot - 1]!;
  } else {
    input.limit = rng.int(1, 1000);
  }
  return input;
}

function callsFor(kind: Exclude<Kind, "/api/health">, rng: Rng): Call[] {
  switch (kind) {
    case "sessions.active":
      return [{ procedure: "sessions.active", input: sessionsInput(rng) }];
    case "market.candles":
      return [{ procedure: "market.candles", input: candlesInput(rng) }];
    case "health.status":
      return [{ procedure: "health.status", input: undefined }];
    case "batch":
      return [
        { procedure: "sessions.active", input: sessionsInput(rng) },
        { procedure: "market.candles", input: candlesInput(rng) },
        { procedure: "health.status", input: undefined },
      ];
  }
}

function trpcUrl(base: string, calls: Call[]): string {
  if (calls.length === 1) {
    const [call] = calls as [Call];
    const query = call.input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(call.input))}`;
    return `${base}/api/trpc/${call.procedure}${query}`;
  }
  const inputs: Record<string, unknown> = {};
  calls.forEach((call, i) => {
    if (call.input !== undefined) inputs[i] = call.input;
  });
  return `${base}/api/trpc/${calls.map((c) => c.procedure).join(",")}?batch=1&input=${encodeURIComponent(JSON.stringify(inputs))}`;
}

export function inputKey(call: Call): string {
  return `${call.procedure}:${JSON.stringify(call.input ?? null)}`;
}

// ---------------------------------------------------------------------------------------------

const UNION_STATUSES = ["ok", "degraded", "error"] as const;
type UnionStatus = (typeof UNION_STATUSES)[number];
const BREAKER_STATES = new Set(["closed", "open", "half-open"]);

type Check = { status: string; violation?: string; emptyMessage: boolean; poolTotal?: number };

const isIso = (value: unknown) => typeof value === "string" && !Number.isNaN(Date.parse(value));
const hasText = (value: unknown) => typeof value === "string" && value.trim() !== "";

/** Checks one data procedure's answer against the contract's union. */
export function checkUnion(value: unknown): Check {
  const v = value as Record<string, unknown> | null;
  if (!v || typeof v !== "object") return { status: "malformed", violation: "not an object", emptyMessage: false };
  const status = String(v.status);
  const emptyMessage = status !== "ok" && !hasText(v.message);
  const violation = (() => {
    switch (status) {
      case "ok":
        return Array.isArray(v.data) && isIso(v.fetchedAt) ? undefined : "ok without data array or fetchedAt";
      case "degraded":
        if (!Array.isArray(v.data) || !isIso(v.cachedAt)) return "degraded without data array or cachedAt";
        if (v.reason !== "database_unavailable") return `degraded with reason ${String(v.reason)}`;
        if (!BREAKER_STATES.has(String(v.breaker))) return `degraded with breaker ${String(v.breaker)}`;
        if (v.retryAt !== undefined && !isIso(v.retryAt)) return "degraded with a bad retryAt";
        return undefined;
      case "error":
        if (v.data !== null) return "error with data";
        if (v.reason !== "database_unavailable" && v.reason !== "query_failed")
          return `error with reason ${String(v.reason)}`;
        if (!BREAKER_STATES.has(String(v.breaker))) return `error with breaker ${String(v.breaker)}`;
        return undefined;
      default:
        return `unknown status ${status}`;
    }
  })();
  return { status, violation, emptyMessage };
}

/** Checks the health object of GET /api/health and health.status. */
export function checkHealth(value: unknown): Check {
  const v = value as { status?: unknown; questdb?: Record<string, unknown> } | null;
  if (!v || typeof v !== "object" || !v.questdb)
    return { status: "malformed", violation: "not a health object", emptyMessage: false };
  const q = v.questdb;
  const pool = q.pool as Record<string, unknown> | undefined;
  const status = String(v.status);
  let violation: string | undefined;
  if (status !== "ok" && status !== "degraded") violation = `health status ${status}`;
  else if (!BREAKER_STATES.has(String(q.breaker))) violation = `health breaker ${String(q.breaker)}`;
  else if (!pool || typeof pool.total !== "number" || typeof pool.idle !== "number" || typeof pool.waiting !== "number")
    violation = "health without pool numbers";
  else if (q.lastSuccessAt !== null && !isIso(q.lastSuccessAt)) violation = "health with a bad lastSuccessAt";
  return {
    status,
    violation,
    emptyMessage: q.lastError !== null && !hasText(q.lastError),
    poolTotal: typeof pool?.total === "number" ? pool.total : undefined,
  };
}

// ---------------------------------------------------------------------------------------------

interface Second {
  requests: number;
  ok: number;
  degraded: number;
  error: number;
  http5xx: number;
  otherFailures: number;
  maxMs: number;
}

export class ClientStats {
  readonly byHttpStatus: Record<string, number> = {};
  readonly byUnionStatus: Record<UnionStatus, number> = { ok: 0, degraded: 0, error: 0 };
  readonly byHealthStatus: Record<string, number> = {};
  readonly byKind: Record<string, { requests: number; http: Record<string, number>; maxMs: number }> = {};
  readonly byProcedure: Record<string, Record<string, number>> = {};
  readonly durationsMs: number[] = [];
  readonly seconds: Second[] = [];
  readonly violations: string[] = [];
  readonly okKeys = new Set<string>();
  requests = 0;
  /** Data answers other than `ok` to requests made while QuestDB had been up for over 3 s. */
  notOkWhileUp = 0;
  readonly notOkWhileUpExamples: string[] = [];
  emptyMessages = 0;
  violationCount = 0;
  maxMs = 0;
  maxMsKind = "";
  maxPoolTotalReported = 0;
  /** Seconds after the start when the client had seen `cacheMaxEntries` distinct inputs answered `ok`. */
  cacheFullAtS: number | null = null;
  /** Set by the soak after the last restart: the first `ok` of each data procedure asked after it. */
  recovery: { since: number; firstOk: Record<DataProcedure, number | null>; healthOk: number | null } | null = null;

  constructor(
    readonly startedAt: number,
    readonly cacheMaxEntries: number,
    /** Since when QuestDB has been up (epoch ms), or null while it is killed or frozen. */
    private readonly questdbUpSince: () => number | null = () => null,
  ) {}

  private second(at: number): Second {
    const index = Math.max(0, Math.floor((at - this.startedAt) / 1000));
    while (this.seconds.length <= index) {
      this.seconds.push({ requests: 0, ok: 0, degraded: 0, error: 0, http5xx: 0, otherFailures: 0, maxMs: 0 });
    }
    return this.seconds[index]!;
  }

  private violation(text: string) {
    this.violationCount++;
    if (this.violations.length < 20) this.violations.push(text);
  }

  record(kind: Kind, calls: Call[], startedAt: number, endedAt: number, http: string, body: unknown): void {
    const ms = endedAt - startedAt;
    this.requests++;
    this.durationsMs.push(ms);
    if (ms > this.maxMs) {
      this.maxMs = ms;
      this.maxMsKind = kind;
    }
    this.byHttpStatus[http] = (this.byHttpStatus[http] ?? 0) + 1;
    const k = (this.byKind[kind] ??= { requests: 0, http: {}, maxMs: 0 });
    k.requests++;
    k.http[http] = (k.http[http] ?? 0) + 1;
    k.maxMs = Math.max(k.maxMs, ms);
    const second = this.second(endedAt);
    second.requests++;
    second.maxMs = Math.max(second.maxMs, ms);
    if (/^5\d\d$/.test(http)) second.http5xx++;
    else if (http !== "200") second.otherFailures++;

    if (kind === "/api/health") {
      if (http === "200") this.countHealth(body, startedAt, endedAt);
      return;
    }
    if (http !== "200" && http !== "207") {
      const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
      if (body !== null && !hasText(message)) this.emptyMessages++;
      return;
    }
    const items = calls.length === 1 ? [body] : Array.isArray(body) ? body : [];
    if (items.length !== calls.length) {
      this.violation(`${kind}: ${items.length} results for ${calls.length} calls`);
      return;
    }
    calls.forEach((call, i) => {
      const item = items[i] as { result?: { data?: unknown }; error?: { message?: unknown } } | undefined;
      if (!item?.result) {
        if (!hasText(item?.error?.message)) this.emptyMessages++;
        this.violation(`${call.procedure}: a tRPC error in a 200 answer: ${JSON.stringify(item).slice(0, 200)}`);
        return;
      }
      if (call.procedure === "health.status") {
        this.countHealth(item.result.data, startedAt, endedAt);
        return;
      }
      const check = checkUnion(item.result.data);
      if (check.violation) this.violation(`${call.procedure}: ${check.violation}`);
      if (check.emptyMessage) this.emptyMessages++;
      const perProcedure = (this.byProcedure[call.procedure] ??= {});
      perProcedure[check.status] = (perProcedure[check.status] ?? 0) + 1;
      if (check.status === "ok" || check.status === "degraded" || check.status === "error") {
        this.byUnionStatus[check.status]++;
        second[check.status]++;
      }
      const upSince = this.questdbUpSince();
      if (check.status !== "ok" && upSince !== null && startedAt - upSince > 3_000) {
        this.notOkWhileUp++;
        const message = (item.result.data as { message?: unknown }).message;
        if (this.notOkWhileUpExamples.length < 5)
          this.notOkWhileUpExamples.push(`${call.procedure} ${check.status}: ${String(message)}`);
      }
      if (check.status === "ok") {
        if (this.okKeys.size < this.cacheMaxEntries * 20) this.okKeys.add(inputKey(call));
        if (this.cacheFullAtS === null && this.okKeys.size >= this.cacheMaxEntries) {
          this.cacheFullAtS = (endedAt - this.startedAt) / 1000;
        }
        const recovery = this.recovery;
        if (recovery && startedAt >= recovery.since && recovery.firstOk[call.procedure] === null) {
          recovery.firstOk[call.procedure] = endedAt;
        }
      }
    });
  }

  private countHealth(body: unknown, startedAt: number, endedAt: number) {
    const check = checkHealth(body);
    if (check.violation) this.violation(`health: ${check.violation}`);
    if (check.emptyMessage) this.emptyMessages++;
    this.byHealthStatus[check.status] = (this.byHealthStatus[check.status] ?? 0) + 1;
    if (check.poolTotal !== undefined) this.maxPoolTotalReported = Math.max(this.maxPoolTotalReported, check.poolTotal);
    const recovery = this.recovery;
    if (check.status === "ok" && recovery && startedAt >= recovery.since && recovery.healthOk === null) {
      recovery.healthOk = endedAt;
    }
  }
}

/** One polling client: every kind of request in turn (shuffled), a think time between requests. */
export async function runClient(opts: {
  baseUrl: string;
  rng: Rng;
  stats: ClientStats;
  thinkMs: readonly [number, number];
  requestTimeoutMs: number;
  stopped: () => boolean;
  sleep: (ms: number) => Promise<void>;
}): Promise<void> {
  const { rng, stats } = opts;
  // Clients start spread over the first think time, not all in the same millisecond.
  await opts.sleep(rng.int(0, opts.thinkMs[1]));
  while (!opts.stopped()) {
    const order = [...KINDS].sort(() => rng.next() - 0.5);
    for (const kind of order) {
      if (opts.stopped()) return;
      const calls = kind === "/api/health" ? [] : callsFor(kind, rng);
      const url = kind === "/api/health" ? `${opts.baseUrl}/api/health` : trpcUrl(opts.baseUrl, calls);
      const startedAt = Date.now();
      let http: string;
      let body: unknown = null;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(opts.requestTimeoutMs) });
        http = String(res.status);
        const text = await res.text();
        try {
          body = JSON.parse(text);
        } catch {
          body = null;
        }
      } catch (error) {
        const name = (error as Error).name;
        http = name === "TimeoutError" || name === "AbortError" ? "timeout" : "network_error";
      }
      stats.record(kind, calls, startedAt, Date.now(), http, body);
      await opts.sleep(rng.int(opts.thinkMs[0], opts.thinkMs[1]));
    }
  }
}
