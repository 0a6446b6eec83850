import { setTimeout as sleep } from "node:timers/promises";
import type { FleetInstance } from "./app-fleet";
import { eventually } from "./eventually";

/**
 * What the partial-fault tests and the benchmark's peerCutOffOkShare do to running `next start`
 * instances: ask sessions.active as a poller would, poll for a while and keep every answer, cut one
 * instance's own link to QuestDB (harness/app-fleet.ts's links) and drive it until its breaker
 * opens. Plain HTTP against each instance directly, never through the balancer.
 */

/** One sessions.active answer as the tests read it; `status` is `failed` when no tRPC answer came. */
export interface SeenAnswer {
  /** Date.now() when the answer arrived. */
  at: number;
  status: "ok" | "degraded" | "error" | "failed";
  /** `fetchedAt` of an ok answer, `cachedAt` of a degraded one. */
  asOf?: string;
  reason?: string;
  cause?: string;
  rows: { sessionId: string; pnl: number }[];
}

export function sessionsActiveUrl(baseUrl: string, limit = 100): string {
  return `${baseUrl}/api/trpc/sessions.active?input=${encodeURIComponent(JSON.stringify({ limit }))}`;
}

type RawAnswer = {
  status?: SeenAnswer["status"];
  data?: unknown;
  fetchedAt?: string;
  cachedAt?: string;
  reason?: string;
  cause?: string;
};

/** An answer (the union) as a SeenAnswer; also used for the events of a live stream. */
export function seenAnswer(raw: RawAnswer | undefined, at = Date.now()): SeenAnswer {
  if (!raw?.status) return { at, status: "failed", rows: [], cause: JSON.stringify(raw)?.slice(0, 200) };
  const rows = Array.isArray(raw.data)
    ? (raw.data as { sessionId?: string; pnl?: number }[]).map((r) => ({
        sessionId: String(r.sessionId),
        pnl: Number(r.pnl),
      }))
    : [];
  return {
    at,
    status: raw.status,
    asOf: raw.fetchedAt ?? raw.cachedAt,
    reason: raw.reason,
    cause: raw.cause,
    rows,
  };
}

/** One sessions.active answer of the instance at `baseUrl`; a failed request is `failed`, never thrown. */
export async function askSessions(baseUrl: string, limit = 100, timeoutMs = 10_000): Promise<SeenAnswer> {
  try {
    const response = await fetch(sessionsActiveUrl(baseUrl, limit), { signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    if (response.status !== 200)
      return { at: Date.now(), status: "failed", cause: `HTTP ${response.status}`, rows: [] };
    return seenAnswer((JSON.parse(text) as { result?: { data?: RawAnswer } }).result?.data);
  } catch (error) {
    return { at: Date.now(), status: "failed", cause: String(error), rows: [] };
  }
}

/** Asks every `everyMs` for `durationMs` (one request at a time) and keeps every answer. */
export async function pollSessions(
  baseUrl: string,
  { durationMs, everyMs = 200, limit = 100 }: { durationMs: number; everyMs?: number; limit?: number },
): Promise<SeenAnswer[]> {
  const answers: SeenAnswer[] = [];
  const until = Date.now() + durationMs;
  while (Date.now() < until) {
    const started = Date.now();
    answers.push(await askSessions(baseUrl, limit));
    await sleep(Math.max(0, everyMs - (Date.now() - started)));
  }
  return answers;
}

/** The share of `ok` among the answers (0 when there are none). */
export function okShare(answers: readonly SeenAnswer[]): number {
  return answers.length === 0 ? 0 : answers.filter((a) => a.status === "ok").length / answers.length;
}

/** "ok × 3, degraded × 57 (circuit breaker open …)": the answers in one line, for a failure message. */
export function tally(answers: readonly SeenAnswer[]): string {
  const counts = new Map<string, number>();
  for (const a of answers) {
    const key = a.status === "ok" ? "ok" : `${a.status} (${a.reason ?? "-"}: ${a.cause?.slice(0, 120) ?? "-"})`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${key} × ${n}`).join(", ");
}

/** The instance's /api/health `questdb.breaker`, or undefined when it does not answer. */
export async function breakerOf(baseUrl: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${baseUrl}/api/health`, { signal: AbortSignal.timeout(5_000) });
    return ((await response.json()) as { questdb?: { breaker?: string } }).questdb?.breaker;
  } catch {
    return undefined;
  }
}

/** Every instance answers sessions.active `ok` (QuestDB up, nothing open). */
export async function waitAllOk(instances: readonly FleetInstance[], timeoutMs = 60_000): Promise<void> {
  await eventually(
    async () => (await Promise.all(instances.map((i) => askSessions(i.url)))).every((a) => a.status === "ok"),
    { timeoutMs, intervalMs: 250, what: `${instances.map((i) => i.name).join(", ")} all answering ok` },
  );
}

/** A running drive of one instance; stop() ends it and resolves once its last request is back. */
export interface Drive {
  stop(): Promise<void>;
}

/**
 * Asks the instance for inputs nobody has cached (a new limit each time), `concurrency` at a time,
 * so each call reaches QuestDB through its link: what opens its breaker once the link is cut.
 */
export function driveUncached(baseUrl: string, concurrency = 4): Drive {
  let running = true;
  let next = 0;
  const worker = async () => {
    while (running) {
      next = (next % 400) + 1;
      await askSessions(baseUrl, 100 + next, 5_000);
      await sleep(50);
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

/**
 * Cuts `cutOff`'s own link to QuestDB (new connections refused, open ones closed) and drives it
 * until its breaker says open; the link stays cut and the drive goes on until `restore()`.
 */
export async function cutOffFromQuestdb(
  cutOff: FleetInstance,
  openWithinMs = 30_000,
): Promise<{ restore(): Promise<void> }> {
  const link = cutOff.questdbLink;
  if (!link) throw new Error(`${cutOff.name} has no link of its own to QuestDB (createFleet's links.questdbPgPort)`);
  await link.disable();
  const drive = driveUncached(cutOff.url);
  try {
    await eventually(async () => (await breakerOf(cutOff.url)) === "open", {
      timeoutMs: openWithinMs,
      intervalMs: 100,
      what: `${cutOff.name}'s breaker open after its link to QuestDB was cut`,
    });
  } catch (error) {
    await drive.stop();
    await link.enable();
    throw error;
  }
  return {
    async restore() {
      await drive.stop();
      await link.enable();
    },
  };
}
