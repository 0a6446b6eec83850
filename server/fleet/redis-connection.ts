import {
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
  isBrokenCircuitError,
  type CircuitBreakerPolicy,
} from "cockatiel";
import Redis, { type RedisOptions } from "ioredis";
import { withDeadline } from "@/server/lib/with-deadline";
import { createSubscriptions } from "./subscriptions";

/**
 * The fleet's connection to Redis, built so that Redis can never make a request wait or fail:
 * every command is bounded by a short timeout and guarded by a breaker of its own, and `run`
 * answers `undefined` instead of throwing, so each caller falls back to its local behaviour.
 * Reconnection is ioredis's, forever, every `reconnectEveryMs`; the instance rejoins by itself.
 */

/** The house's structured log call (as server/last-known-good's StoreLog): an event name and its fields. */
export type FleetLog = (event: string, fields: Record<string, unknown>) => void;

/** For /api/health's `redis` field. */
export type FleetRedisStatus = "ok" | "unavailable";

export interface FleetRedisOptions {
  url: string;
  /** Names this app instance in locks, announcements and Redis's CLIENT LIST. */
  instanceId: string;
  /** Longest any one Redis call may take; past it the caller goes on without Redis. */
  commandTimeoutMs?: number;
  /** Consecutive failed calls that open the Redis breaker… */
  breakerThreshold?: number;
  /** …and how long it then answers `undefined` at once before one call probes Redis again. */
  halfOpenAfterMs?: number;
  reconnectEveryMs?: number;
  /** How often an idle instance PINGs Redis, so its status and breaker follow Redis without traffic. */
  heartbeatMs?: number;
  log?: FleetLog;
}

export interface FleetRedis {
  readonly instanceId: string;
  /**
   * Runs `command` under the timeout and the breaker: its result, or `undefined` when Redis is
   * unavailable, slow or broken.
   */
  run<T>(command: (redis: Redis) => Promise<T>): Promise<T | undefined>;
  /** Listens to `channel` on the subscriber connection, now and after every reconnect; returns the way to stop. */
  subscribe(channel: string, onMessage: (message: string) => void): () => void;
  status(): FleetRedisStatus;
  /** Drops both connections at once (no QUIT: a frozen Redis would never answer it). */
  close(): void;
}

export const FLEET_REDIS_DEFAULTS = {
  commandTimeoutMs: 150,
  breakerThreshold: 3,
  halfOpenAfterMs: 2_000,
  reconnectEveryMs: 500,
  heartbeatMs: 1_000,
} as const;

const ignoreLog: FleetLog = () => undefined;

/** Builds both connections and starts connecting in the background: nothing here waits for Redis. */
export function createFleetRedis(options: FleetRedisOptions): FleetRedis {
  const settings: Settings = { ...FLEET_REDIS_DEFAULTS, log: ignoreLog, ...withoutUndefined(options) };
  const { instanceId, log, commandTimeoutMs } = settings;
  let closed = false;
  const commands = new Redis(settings.url, {
    ...clientOptions(settings, "commands"),
    commandTimeout: commandTimeoutMs,
  });
  // ioredis needs a connection of its own for SUBSCRIBE; resubscribing is done by `subscriptions`.
  const subscriber = new Redis(settings.url, { ...clientOptions(settings, "subscriber"), autoResubscribe: false });
  const watch = { instanceId, log, isClosed: () => closed };
  const connections = [watchConnection(commands, "commands", watch), watchConnection(subscriber, "subscriber", watch)];
  const subscriptions = createSubscriptions(subscriber, (event, fields) => log(event, { instanceId, ...fields }));
  const guard = createRedisBreaker(settings);

  // Commands sent before the first connection is up would fail at once (no offline queue) and
  // count against the breaker: at start-up they wait for it, within the same time limit.
  let firstReady: Promise<void> | null = new Promise<void>((resolve) => commands.once("ready", () => resolve()));
  void firstReady.then(() => (firstReady = null));

  async function run<T>(command: (redis: Redis) => Promise<T>): Promise<T | undefined> {
    if (closed) return undefined;
    const timedOut = () => new Error(`Redis did not answer within ${commandTimeoutMs} ms`);
    try {
      const waitForFirst = firstReady;
      const send = () => (waitForFirst ? waitForFirst.then(() => command(commands)) : command(commands));
      return await guard.breaker.execute(() => withDeadline(send(), commandTimeoutMs, timedOut));
    } catch (error) {
      guard.noteFailure(error);
      return undefined;
    }
  }

  // A frozen Redis fails no call until one is made, and an open breaker only half-opens when a
  // call arrives: a PING every heartbeat lets an idle instance notice both by itself.
  const heartbeat = setInterval(() => void run((redis) => redis.ping()), settings.heartbeatMs);
  heartbeat.unref();
  for (const client of [commands, subscriber]) client.connect().catch(() => undefined); // the error listener has it

  const healthy = () =>
    connections.every((c) => c.ready()) && guard.breaker.state === CircuitState.Closed && subscriptions.live();
  return {
    instanceId,
    run,
    subscribe: subscriptions.add,
    status: () => (!closed && healthy() ? "ok" : "unavailable"),
    close() {
      closed = true;
      clearInterval(heartbeat);
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}

type Settings = Required<FleetRedisOptions>;

function clientOptions(settings: Settings, role: "commands" | "subscriber"): RedisOptions {
  return {
    lazyConnect: true,
    // Fail fast while disconnected: a queued command would wait for a Redis that may never return.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Forever, at a steady pace: an instance must rejoin however long Redis was away.
    retryStrategy: () => settings.reconnectEveryMs,
    // A Redis host that drops packets would otherwise hold each reconnect attempt for 10 s.
    connectTimeout: Math.max(1_000, settings.reconnectEveryMs * 2),
    connectionName: `${settings.instanceId}:${role}`,
  };
}

/** The Redis breaker; it logs when it opens (with the last failure) and when it closes again. */
function createRedisBreaker(settings: Settings) {
  const breaker: CircuitBreakerPolicy = circuitBreaker(handleAll, {
    halfOpenAfter: settings.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(settings.breakerThreshold),
  });
  const { instanceId, log } = settings;
  let lastError = "";
  breaker.onBreak(() =>
    log("fleet.redis_breaker_open", { instanceId, cause: lastError, retryInMs: settings.halfOpenAfterMs }),
  );
  breaker.onReset(() => log("fleet.redis_breaker_closed", { instanceId }));
  return {
    breaker,
    noteFailure(error: unknown) {
      // The breaker's own refusals say nothing new about Redis.
      if (!isBrokenCircuitError(error)) lastError = describeError(error);
    },
  };
}

interface Watch {
  instanceId: string;
  log: FleetLog;
  /** A connection dropped by close() is not "lost". */
  isClosed: () => boolean;
}

/**
 * Keeps an `error` listener on the client (ioredis emits one per failed reconnect) and logs each
 * loss and return once.
 */
function watchConnection(client: Redis, role: string, { instanceId, log, isClosed }: Watch) {
  let lastError = "";
  let wasReady = false;
  client.on("error", (error: unknown) => {
    lastError = describeError(error);
  });
  client.on("ready", () => {
    wasReady = true;
    log("fleet.redis_connected", { instanceId, role });
  });
  client.on("close", () => {
    if (wasReady && !isClosed())
      log("fleet.redis_connection_lost", { instanceId, role, cause: lastError || "connection closed" });
    wasReady = false;
  });
  return { ready: () => client.status === "ready" };
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
