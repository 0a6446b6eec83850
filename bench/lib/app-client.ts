import { get, getJson, type GetResult } from "./http";

/** What the benchmarks read from the app over HTTP: sessions.active, /api/health and /api/metrics. */

export type AnswerStatus = "ok" | "degraded" | "error";

export interface SessionsAnswer {
  /** The answer's status, or `http_<code>` / `failed` when no tRPC answer came back. */
  status: AnswerStatus | `http_${number}` | "failed";
  breaker?: string;
  /** The answer's message (degraded / error), or what went wrong over HTTP. */
  message?: string;
  rows?: number;
  /** An `ok` answer's fetchedAt, a `degraded` one's cachedAt (ISO). */
  fetchedAt?: string;
  cachedAt?: string;
  /** The failure in words (degraded / error). */
  cause?: string;
  http: GetResult;
}

interface TrpcEnvelope {
  result?: {
    data?: {
      status?: AnswerStatus;
      breaker?: string;
      message?: string;
      data?: unknown;
      fetchedAt?: string;
      cachedAt?: string;
      cause?: string;
    };
  };
}

export function sessionsUrl(appUrl: string, limit = 100): string {
  return `${appUrl}/api/trpc/sessions.active?input=${encodeURIComponent(JSON.stringify({ limit }))}`;
}

export async function sessionsActive(appUrl: string, limit = 100, timeoutMs?: number): Promise<SessionsAnswer> {
  const { result, json } = await getJson<TrpcEnvelope>(sessionsUrl(appUrl, limit), timeoutMs);
  if (result.status === 0) return { status: "failed", message: result.error, http: result };
  const data = json?.result?.data;
  if (result.status !== 200 || !data?.status)
    return { status: `http_${result.status}`, message: result.body.slice(0, 200), http: result };
  return {
    status: data.status,
    breaker: data.breaker,
    message: data.message,
    rows: Array.isArray(data.data) ? data.data.length : undefined,
    fetchedAt: data.fetchedAt,
    cachedAt: data.cachedAt,
    cause: data.cause,
    http: result,
  };
}

export interface AppHealth {
  status: "ok" | "degraded";
  questdb: { breaker: "closed" | "open" | "half-open"; lastError: string | null };
  /** Fleet mode only (REDIS_URL set). */
  redis?: "ok" | "unavailable";
}

export async function health(appUrl: string, timeoutMs = 5_000): Promise<AppHealth | undefined> {
  const { result, json } = await getJson<AppHealth>(`${appUrl}/api/health`, timeoutMs);
  return result.status === 200 ? json : undefined;
}

/** The Prometheus text of GET /api/metrics. */
export async function metricsText(appUrl: string): Promise<string> {
  const result = await get(`${appUrl}/api/metrics`, 10_000);
  if (result.status !== 200) throw new Error(`GET /api/metrics answered ${result.status} ${result.error ?? ""}`);
  return result.body;
}

/**
 * The value of one sample in Prometheus text, e.g.
 * metricValue(text, "questdb_queries_started_total", { operation: "sessions.active" }); 0 when absent.
 * Labels not named in `labels` may have any value; matching samples are summed.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = new Map<string, string>();
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      present.set(pair[1]!, pair[2]!);
    }
    if (Object.entries(labels).every(([k, v]) => present.get(k) === v)) total += Number(match[3]);
  }
  return total;
}

export async function queriesStarted(appUrl: string, operation = "sessions.active"): Promise<number> {
  return metricValue(await metricsText(appUrl), "questdb_queries_started_total", { operation });
}
