import path from "node:path";
import { UNHANDLED_ERROR_LINE } from "../../harness/app-process";
import { eventually } from "../../harness/eventually";
import { startLoadBalancer, type LoadBalancer } from "../../harness/nginx-process";
import { findFreePorts } from "../../harness/questdb-process";
import { startRedis, type RedisProcess } from "../../harness/redis-process";
import { health } from "./app-client";
import { trackTempDir } from "./cleanup";
import { startApp, type ServerProcess } from "./processes";
import type { BenchContext } from "./types";

/**
 * App instances beyond the bench's own, for the fleet figures: each from the bench's build with
 * the bench's QuestDB settings, its own port, data directory and log (in the run's work dir), and
 * optionally REDIS_URL. A fleet is Redis, N instances sharing it and nginx round-robin in front.
 */

export interface Instance {
  name: string;
  port: number;
  /** Its DASHBOARD_DATA_DIR. */
  dataDir: string;
  redisUrl?: string;
  /** The running `next start`; replaced by restartInstance. */
  app: ServerProcess;
}

function instanceEnv(ctx: BenchContext, dataDir: string, redisUrl?: string): Record<string, string> {
  return { ...ctx.appEnv, DASHBOARD_DATA_DIR: dataDir, ...(redisUrl ? { REDIS_URL: redisUrl } : {}) };
}

/** Starts one more instance; resolves once its /api/health answers. */
export async function startInstance(
  ctx: BenchContext,
  name: string,
  opts: { redisUrl?: string; port?: number } = {},
): Promise<Instance> {
  const port = opts.port ?? (await findFreePorts(1))[0]!;
  const dataDir = path.join(ctx.workDir, `data-${name}`);
  const app = await startApp(
    ctx.build,
    port,
    instanceEnv(ctx, dataDir, opts.redisUrl),
    path.join(ctx.workDir, `${name}.log`),
  );
  return { name, port, dataDir, redisUrl: opts.redisUrl, app };
}

/** Stops the instance and starts it again on the same port, on `dataDir` (default: the same one). */
export async function restartInstance(
  ctx: BenchContext,
  instance: Instance,
  dataDir = instance.dataDir,
): Promise<void> {
  await instance.app.stop();
  instance.dataDir = dataDir;
  const env = instanceEnv(ctx, dataDir, instance.redisUrl);
  instance.app = await startApp(ctx.build, instance.port, env, path.join(ctx.workDir, `${instance.name}.log`));
}

/** Lines of the instance's log (every start of it) that report an unhandled error or a crash. */
export function crashLines(instance: Instance): string[] {
  return instance.app
    .log()
    .split("\n")
    .filter((line) => UNHANDLED_ERROR_LINE.test(line))
    .slice(0, 10);
}

/** A Redis for one scenario; its temp dir is removed however the bench ends. */
export async function startBenchRedis(): Promise<RedisProcess> {
  const redis = await startRedis();
  trackTempDir(redis.dir);
  return redis;
}

export interface Fleet {
  redis: RedisProcess;
  instances: Instance[];
  balancer: LoadBalancer;
  stop(): Promise<void>;
}

/** Redis, `size` instances sharing it (started side by side), nginx round-robin over them. */
export async function startFleet(ctx: BenchContext, size: number): Promise<Fleet> {
  const redis = await startBenchRedis();
  const starts = await Promise.allSettled(
    Array.from({ length: size }, (_, i) => startInstance(ctx, `fleet-${i + 1}`, { redisUrl: redis.url })),
  );
  const instances = starts.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const stopAll = async (balancer?: LoadBalancer) => {
    await Promise.allSettled([...instances.map((i) => i.app.stop()), balancer?.stop()]);
    await redis.stop();
  };
  const failed = starts.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  let balancer: LoadBalancer;
  try {
    balancer = await startLoadBalancer({ upstreamPorts: instances.map((i) => i.port) });
    trackTempDir(balancer.dir);
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { redis, instances, balancer, stop: () => stopAll(balancer) };
}

/** Every instance `ok` with its breaker closed (QuestDB up, the fleet's word on the breaker `closed`). */
export async function waitFleetHealthy(instances: Instance[], timeoutMs = 60_000): Promise<void> {
  await eventually(
    async () => {
      const all = await Promise.all(instances.map((i) => health(i.app.url, 2_000)));
      return all.every((h) => h?.status === "ok" && h.questdb.breaker === "closed");
    },
    { what: "every instance ok with its breaker closed", timeoutMs, intervalMs: 100 },
  );
}
