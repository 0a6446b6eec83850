import path from "node:path";
import { startApp, type AppProcess } from "./app-process";
import { trackTempDir } from "./exit-cleanup";
import { startLoadBalancer, type LoadBalancer } from "./nginx-process";
import { findFreePorts, pgUrlFor } from "./questdb-process";
import { startRedis, type RedisProcess } from "./redis-process";
import type { Proxy, Toxiproxy } from "./toxiproxy";

/**
 * The app in fleet mode, the one launcher the benchmark, the e2e suite and the chaos tooling
 * share: optionally a Redis, several production instances sharing it (each with its own port,
 * DASHBOARD_DATA_DIR and log) and nginx round-robin in front. Redis's and nginx's temporary
 * directories are registered with exit-cleanup.ts, so a command that installed it removes them
 * however it ends.
 */

/** Starts one instance's `next start`; harness/app-process.ts on this repository's build by default. */
export type AppLauncher = (opts: { port: number; logFile: string; env: Record<string, string> }) => Promise<AppProcess>;

const launchFromRepository: AppLauncher = (opts) => startApp(opts);

/** One app instance: stop() and start() keep its port, log and Redis. */
export interface FleetInstance {
  name: string;
  port: number;
  /** The instance itself, not through the balancer. */
  url: string;
  /** Its DASHBOARD_DATA_DIR, the embedded store of last-known-good answers; start() uses it as it is then. */
  dataDir: string;
  logFile: string;
  redisUrl?: string;
  /** The running `next start`; replaced by each start(). */
  app: AppProcess;
  /** Its own Toxiproxy link to QuestDB's PG port (QUESTDB_URL goes through it), when the fleet has links. */
  questdbLink?: Proxy;
  /** Its own Toxiproxy link to the fleet's Redis (REDIS_URL goes through it), when the fleet has links. */
  redisLink?: Proxy;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface InstanceOptions {
  name: string;
  port: number;
  /** Its log (`<name>.log`) and data directory (`<name>/data`) go here. */
  dir: string;
  /** Settings of every instance (QuestDB, auth, …); REDIS_URL and DASHBOARD_DATA_DIR are added. */
  env: Record<string, string>;
  redisUrl?: string;
  launch?: AppLauncher;
}

/** An instance not started yet: call start(). */
export function fleetInstance(opts: InstanceOptions): FleetInstance {
  const launch = opts.launch ?? launchFromRepository;
  const instance: FleetInstance = {
    name: opts.name,
    port: opts.port,
    url: `http://127.0.0.1:${opts.port}`,
    dataDir: path.join(opts.dir, opts.name, "data"),
    logFile: path.join(opts.dir, `${opts.name}.log`),
    redisUrl: opts.redisUrl,
    app: undefined as unknown as AppProcess,
    async start() {
      const redis: Record<string, string> = opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {};
      const env = { ...opts.env, ...redis, DASHBOARD_DATA_DIR: instance.dataDir };
      instance.app = await launch({ port: opts.port, logFile: instance.logFile, env });
    },
    async stop() {
      await instance.app?.stop();
    },
  };
  return instance;
}

export interface FleetOptions {
  /** How many instances behind the balancer. */
  size: number;
  /** Start a Redis and give every instance REDIS_URL. */
  withRedis: boolean;
  /** Where the instances' logs and data directories go. */
  dir: string;
  env: Record<string, string>;
  /** Instances are named `<namePrefix>-1`, `<namePrefix>-2`, … */
  namePrefix: string;
  launch?: AppLauncher;
  /** Start the instances side by side; one at a time by default (on 2 cores parallel starts slow each other). */
  startTogether?: boolean;
  /** Settings of one instance only (e.g. a shifted clock, harness/faketime.ts), laid over `env`; i from 0. */
  instanceEnv?: (i: number) => Record<string, string>;
  /** A Toxiproxy link per instance, so a fault can hit one instance's path only (see FleetLinks). */
  links?: FleetLinks;
}

/**
 * Per-instance links through the caller's Toxiproxy: `<name>-questdb` in front of QuestDB's PG port
 * and/or `<name>-redis` in front of the fleet's Redis. The fleet deletes them when it stops.
 */
export interface FleetLinks {
  toxiproxy: Toxiproxy;
  /** QuestDB's PG wire port: each instance's QUESTDB_URL is set to its own link to it. */
  questdbPgPort?: number;
  /** Each instance's REDIS_URL goes through its own link to the fleet's Redis (needs withRedis). */
  redis?: boolean;
}

/** The instance's links (created now) and the settings that route it through them. */
async function createLinks(
  links: FleetLinks | undefined,
  name: string,
  redisPort: number | undefined,
): Promise<{ questdbLink?: Proxy; redisLink?: Proxy; env: Record<string, string>; redisUrl?: string }> {
  if (!links) return { env: {} };
  const env: Record<string, string> = {};
  let questdbLink: Proxy | undefined;
  let redisLink: Proxy | undefined;
  if (links.questdbPgPort !== undefined) {
    questdbLink = await links.toxiproxy.createProxy(`${name}-questdb`, `127.0.0.1:${links.questdbPgPort}`);
    env.QUESTDB_URL = pgUrlFor(questdbLink.listenPort);
  }
  if (links.redis) {
    if (redisPort === undefined) throw new Error("createFleet: links.redis needs withRedis");
    redisLink = await links.toxiproxy.createProxy(`${name}-redis`, `127.0.0.1:${redisPort}`);
  }
  return { questdbLink, redisLink, env, redisUrl: redisLink && `redis://127.0.0.1:${redisLink.listenPort}` };
}

export interface AppFleet {
  /** Null without Redis (each instance alone, on its disk snapshot), or before start(). */
  redis: RedisProcess | null;
  /** Filled by start(), also when it fails part way (their logs are worth a look). */
  instances: FleetInstance[];
  /** Null until start() has succeeded. */
  balancer: LoadBalancer | null;
  start(): Promise<void>;
  /** Stops whatever was started; safe at any point, also after a failed start(). */
  stop(): Promise<void>;
}

async function startInstances(instances: FleetInstance[], together: boolean): Promise<void> {
  if (!together) {
    for (const instance of instances) await instance.start();
    return;
  }
  const starts = await Promise.allSettled(instances.map((instance) => instance.start()));
  const failed = starts.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
}

/** A fleet not started yet: the caller holds it before start(), so it can look at a half-started one. */
export function createFleet(opts: FleetOptions): AppFleet {
  const fleet: AppFleet = {
    redis: null,
    instances: [],
    balancer: null,
    async start() {
      if (opts.withRedis) {
        fleet.redis = await startRedis();
        trackTempDir(fleet.redis.dir);
      }
      const redisUrl = fleet.redis?.url;
      const ports = await findFreePorts(opts.size);
      for (const [i, port] of ports.entries()) {
        const name = `${opts.namePrefix}-${i + 1}`;
        const link = await createLinks(opts.links, name, fleet.redis?.port);
        const env = { ...opts.env, ...link.env, ...opts.instanceEnv?.(i) };
        const instance = fleetInstance({
          name,
          port,
          dir: opts.dir,
          env,
          redisUrl: link.redisUrl ?? redisUrl,
          launch: opts.launch,
        });
        instance.questdbLink = link.questdbLink;
        instance.redisLink = link.redisLink;
        fleet.instances.push(instance);
      }
      await startInstances(fleet.instances, opts.startTogether ?? false);
      fleet.balancer = await startLoadBalancer({ upstreamPorts: ports });
      trackTempDir(fleet.balancer.dir);
    },
    async stop() {
      await fleet.balancer?.stop().catch(() => undefined);
      await Promise.allSettled(fleet.instances.map((instance) => instance.stop()));
      const links = fleet.instances.flatMap((instance) => [instance.questdbLink, instance.redisLink]);
      await Promise.allSettled(links.map((link) => link?.delete()));
      await fleet.redis?.stop().catch(() => undefined);
    },
  };
  return fleet;
}

/** A fleet started, or stopped again and the error thrown when any part fails to start. */
export async function startFleet(opts: FleetOptions): Promise<AppFleet & { balancer: LoadBalancer }> {
  const fleet = createFleet(opts);
  try {
    await fleet.start();
  } catch (error) {
    await fleet.stop();
    throw error;
  }
  return fleet as AppFleet & { balancer: LoadBalancer };
}
