import { fleetInstance, startFleet as launchFleet, type AppFleet, type FleetInstance } from "../../harness/app-fleet";
import type { AppLauncher } from "../../harness/app-fleet";
import { eventually } from "../../harness/eventually";
import { trackTempDir } from "../../harness/exit-cleanup";
import type { LoadBalancer } from "../../harness/nginx-process";
import { findFreePorts } from "../../harness/questdb-process";
import { startRedis, type RedisProcess } from "../../harness/redis-process";
import { health } from "./app-client";
import { startApp } from "./processes";
import type { BenchContext } from "./types";

/**
 * App instances beyond the bench's own, for the fleet figures, through the fleet launcher in
 * harness/: each from the bench's build with the bench's QuestDB settings, its own port, data
 * directory and log (in the run's work dir), and optionally REDIS_URL.
 */

export type Instance = FleetInstance;
export type Fleet = AppFleet & { balancer: LoadBalancer };

/** `next start` of the bench's build, with the bench's own settings. */
function launcher(ctx: BenchContext): AppLauncher {
  return ({ port, logFile, env }) => startApp(ctx.build, port, env, logFile);
}

/** Starts one more instance; resolves once its /api/health answers. */
export async function startInstance(
  ctx: BenchContext,
  name: string,
  opts: { redisUrl?: string } = {},
): Promise<Instance> {
  const [port] = await findFreePorts(1);
  const instance = fleetInstance({
    name,
    port: port!,
    dir: ctx.workDir,
    env: ctx.appEnv,
    redisUrl: opts.redisUrl,
    launch: launcher(ctx),
  });
  await instance.start();
  return instance;
}

/** Stops the instance and starts it again on the same port, on `dataDir` (default: the same one). */
export async function restartInstance(instance: Instance, dataDir = instance.dataDir): Promise<void> {
  await instance.stop();
  instance.dataDir = dataDir;
  await instance.start();
}

/** Lines of the instance's log (every start of it) that report an unhandled error or a crash. */
export function crashLines(instance: Instance): string[] {
  return instance.app.unhandledErrors().slice(0, 10);
}

/** A Redis for one scenario; its temp dir is removed however the bench ends. */
export async function startBenchRedis(): Promise<RedisProcess> {
  const redis = await startRedis();
  trackTempDir(redis.dir);
  return redis;
}

/** Redis, `size` instances sharing it (started side by side), nginx round-robin over them. */
export async function startFleet(ctx: BenchContext, size: number): Promise<Fleet> {
  return launchFleet({
    size,
    withRedis: true,
    dir: ctx.workDir,
    env: ctx.appEnv,
    namePrefix: "fleet",
    launch: launcher(ctx),
    startTogether: true,
  });
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
