import { readFileSync } from "node:fs";
import path from "node:path";
import { eventually } from "../../harness/eventually";
import { fmtMs, round } from "../../harness/stats";
import { SNAPSHOT_FILE } from "../../server/last-known-good/snapshot-store";
import { sessionsActive } from "../lib/app-client";
import { crashLines, restartInstance, startBenchRedis, startInstance, type Instance } from "../lib/fleet-processes";
import type { BenchContext, FigureResult, FigureSpec } from "../lib/types";

/**
 * restartInOutageStatus: does an app restarted while QuestDB is down still answer `degraded` with
 * the data it had? Two instances side by side:
 * - embedded: no REDIS_URL, its own DASHBOARD_DATA_DIR; restarted on the same directory, so the
 *   disk snapshot is the only place the answer can come from;
 * - Redis: REDIS_URL set; restarted on a fresh, empty data directory, so only Redis can supply it.
 * Each answers `ok` for the viewers' input, QuestDB is killed, both are stopped and started again,
 * and each is asked once: its status, and whether its cachedAt is the fetchedAt of the `ok` before.
 */

const LIMIT = 100;

export const RESTART_IN_OUTAGE: FigureSpec<"restartInOutageStatus"> = {
  key: "restartInOutageStatus",
  unit: "status",
  goal: { equals: "degraded", text: "degraded" },
  method: {
    text:
      "two more app instances (`next start`, the same settings): one without `REDIS_URL`, with its own " +
      "`DASHBOARD_DATA_DIR`, and one with `REDIS_URL` (a Redis started for it). Each answers `ok` for the viewers' " +
      "input (`sessions.active`, limit 100); once that answer is in the embedded one's snapshot on disk, QuestDB is " +
      "killed (SIGKILL), both apps are stopped (SIGTERM) and started again — the embedded one on its data " +
      "directory, the Redis one on a fresh, empty one, so only Redis can supply the answer — and each is asked " +
      "once. The figure is the status of those first answers (`degraded` when both are); each is checked to carry " +
      "the `cachedAt` of the `ok` before the outage.",
  },
};

interface RestartSample {
  mode: "embedded" | "redis";
  status: string;
  okFetchedAt: string;
  cachedAt: string | null;
  sameCachedAt: boolean;
  firstAnswerMs: number;
  restartMs: number;
  breaker: string | null;
  cause: string | null;
  dataDirAfterRestart: string;
  crashLines: string[];
}

/** An `ok` answer for the viewers' input; its fetchedAt. */
async function okAnswer(instance: Instance): Promise<string> {
  const answer = await sessionsActive(instance.app.url, LIMIT, 30_000);
  if (answer.status !== "ok" || !answer.fetchedAt) {
    throw new Error(
      `${instance.name} answered ${answer.status} before the outage: ${answer.message ?? "(no message)"}`,
    );
  }
  return answer.fetchedAt;
}

/** The snapshot is written behind the request (coalesced, about once a second): wait until it holds the answer. */
async function waitForSnapshot(instance: Instance, fetchedAt: string): Promise<void> {
  const file = path.join(instance.dataDir, SNAPSHOT_FILE);
  const stamp = String(Date.parse(fetchedAt));
  await eventually(
    () => {
      try {
        return readFileSync(file, "utf8").includes(stamp);
      } catch {
        return false;
      }
    },
    {
      what: `${instance.name}'s snapshot to hold the answer fetched at ${fetchedAt}`,
      timeoutMs: 15_000,
      intervalMs: 100,
    },
  );
}

async function restartAndAsk(
  ctx: BenchContext,
  instance: Instance,
  mode: RestartSample["mode"],
  okFetchedAt: string,
): Promise<RestartSample> {
  const fresh = mode === "redis" ? path.join(ctx.workDir, `data-${instance.name}-fresh`) : instance.dataDir;
  const t = performance.now();
  await restartInstance(instance, fresh);
  const restartMs = performance.now() - t;
  const answer = await sessionsActive(instance.app.url, LIMIT, 30_000);
  return {
    mode,
    status: answer.status,
    okFetchedAt,
    cachedAt: answer.cachedAt ?? null,
    sameCachedAt: answer.cachedAt === okFetchedAt,
    firstAnswerMs: round(answer.http.ms, 1),
    restartMs: round(restartMs, 0),
    breaker: answer.breaker ?? null,
    cause: answer.cause ?? answer.message ?? null,
    dataDirAfterRestart: mode === "redis" ? "a fresh, empty directory" : "the same directory",
    crashLines: crashLines(instance),
  };
}

async function restartSamples(ctx: BenchContext): Promise<RestartSample[]> {
  const redis = await startBenchRedis();
  const instances: Instance[] = [];
  try {
    const starts = await Promise.allSettled([
      startInstance(ctx, "restart-embedded"),
      startInstance(ctx, "restart-redis", { redisUrl: redis.url }),
    ]);
    for (const s of starts) if (s.status === "fulfilled") instances.push(s.value);
    const failed = starts.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
    const [embedded, shared] = instances as [Instance, Instance];
    const [embeddedOk, sharedOk] = await Promise.all([okAnswer(embedded), okAnswer(shared)]);
    await waitForSnapshot(embedded, embeddedOk);
    await ctx.questdb.kill();
    return await Promise.all([
      restartAndAsk(ctx, embedded, "embedded", embeddedOk),
      restartAndAsk(ctx, shared, "redis", sharedOk),
    ]);
  } finally {
    await Promise.allSettled(instances.map((i) => i.app.stop()));
    await redis.stop();
    if (!ctx.questdb.isRunning()) await ctx.questdb.restart();
  }
}

export async function restartInOutageStatus(ctx: BenchContext): Promise<FigureResult> {
  const samples = await restartSamples(ctx);
  for (const s of samples) {
    ctx.progress(
      `  restart in outage, ${s.mode}: first answer ${s.status} in ${fmtMs(s.firstAnswerMs)} (restart ${fmtMs(s.restartMs)}), ` +
        `cachedAt ${s.sameCachedAt ? "= the ok's fetchedAt" : `${s.cachedAt ?? "none"} ≠ ${s.okFetchedAt}`}`,
    );
  }
  const [embedded, redis] = samples as [RestartSample, RestartSample];
  const value =
    embedded.status === redis.status ? embedded.status : `embedded ${embedded.status}, redis ${redis.status}`;
  const kept = samples.every((s) => s.sameCachedAt);
  return {
    value,
    runs: [],
    spread: null,
    runsLabel: "1 restart embedded + 1 with Redis",
    display: `${value} (embedded: ${embedded.status}, Redis: ${redis.status}; ${kept ? "cachedAt kept" : "cachedAt NOT kept"})`,
    baseline: { value: null, display: "—", what: "none", runs: [] },
    ratio: null,
    ratioDisplay: "—",
    details: {
      measuredAs: "the first sessions.active (limit 100) answer of an instance restarted while QuestDB is killed",
      embedded,
      redis,
      cachedAtKept: kept,
    },
  };
}
