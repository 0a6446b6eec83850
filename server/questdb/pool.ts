import { Pool, types as pgTypes, type PoolConfig, type QueryResultRow } from "pg";
import { startAttempt } from "./attempt";
import { ConnectionGate, GateBusyError, type ReleaseSlot } from "./connection-gate";
import {
  AttemptTimeoutError,
  PoolBusyError,
  SlowCallError,
  classifyFailure,
  describeFailure,
  isConnectionFailure,
  toClassifiedError,
  type ClassifiedError,
  type FailureInfo,
} from "./errors";
import { ignoreEvents, type EmitQuestdbEvent } from "./events";

/**
 * One pg pool per QuestDB endpoint, hardened against what we measured with a raw pool:
 * - an `error` listener on the pool and on every client, so a connection that dies while idle or
 *   between queries is dropped instead of crashing the process;
 * - every attempt bounded by the attempt limit, connect included (pg's defaults wait forever);
 * - a gate of as many slots as connections, each held until its connection is released or
 *   destroyed (health probes included), with a bounded queue and a bounded wait;
 * - an attempt that runs out of time mid-query is stopped on QuestDB's side (its connection is
 *   closed) and called slow — not a dead QuestDB — when QuestDB answers other queries or a probe;
 * - one `SELECT 1` health probe per interval; idle connections expire and old ones are recycled.
 */

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export interface PoolHealth {
  lastSuccessAt: Date | null;
  lastError: string | null;
  /** When lastError happened: after recovery the page shows it as history, with its time. */
  lastErrorAt: Date | null;
  lastCheckAt: Date | null;
  /** Whether the most recent contact with QuestDB (query or health check) succeeded. */
  reachable: boolean | null;
}

export interface QuestdbPoolOptions {
  connectionString: string;
  max: number;
  /** One attempt's limit: bounds both the connect and the query. */
  attemptTimeoutMs: number;
  healthIntervalMs: number;
  /** Longest wait for a free connection, and most callers waiting; past either: PoolBusyError. */
  maxWaitMs?: number;
  maxQueued?: number;
  /** Idle connections close after this; every connection is recycled after `maxLifetimeSeconds`. */
  idleTimeoutMs?: number;
  maxLifetimeSeconds?: number;
  /** Health checks, lost idle connections: the service listens (and releases the breaker). */
  emit?: EmitQuestdbEvent;
  /** Unit tests hand in a stand-in for pg's Pool. */
  createPool?: (config: PoolConfig) => Pool;
}

/**
 * Where the pool stands: serving (its health timer runs), checking (one health probe under way;
 * the next tick skips), or closed (queries refused, timer stopped).
 */
type PoolLifecycle =
  | { state: "serving"; healthTimer: NodeJS.Timeout }
  | { state: "checking"; healthTimer: NodeJS.Timeout }
  | { state: "closed" };

export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

/** "host:port" of a PostgreSQL URL, as errors, logs and metrics name the endpoint. */
export function endpointOf(connectionString: string): string {
  const url = new URL(connectionString);
  return `${url.hostname}:${url.port || "5432"}`;
}

// QuestDB sends timestamps in UTC without a zone; pg would read them as local time.
const TIMESTAMP_OIDS = new Set([1114, 1184]);
function parseUtcTimestamp(text: string): string {
  const iso = text.includes("T") ? text : text.replace(" ", "T");
  const date = new Date(/[zZ]|[+-]\d\d(:?\d\d)?$/.test(iso) ? iso : `${iso}Z`);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}
const questdbTypes = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (TIMESTAMP_OIDS.has(oid) && format !== "binary") return parseUtcTimestamp;
    return pgTypes.getTypeParser(oid, format as "text");
  },
};

export class QuestdbPool implements Queryable {
  readonly endpoint: string;
  private readonly pool: Pool;
  private readonly gate: ConnectionGate;
  private readonly secrets: string[];
  private readonly emit: EmitQuestdbEvent;
  private readonly probeTimeoutMs: number;
  private lifecycle: PoolLifecycle;
  /**
   * When the newest request QuestDB answered (a query or a probe) was sent, epoch ms. The send
   * time, not the answer's: an answer already on its way when the link went dark says nothing
   * about the link since (a blackhole test saw one arrive a moment after an attempt began).
   */
  private lastAnsweredSentAt = 0;
  private contact: PoolHealth = {
    lastSuccessAt: null,
    lastError: null,
    lastErrorAt: null,
    lastCheckAt: null,
    reachable: null,
  };

  constructor(private readonly options: QuestdbPoolOptions) {
    const url = new URL(options.connectionString);
    this.endpoint = endpointOf(options.connectionString);
    this.secrets = url.password ? [decodeURIComponent(url.password)] : [];
    this.emit = options.emit ?? ignoreEvents;
    this.probeTimeoutMs = Math.min(1_000, options.attemptTimeoutMs);
    this.gate = new ConnectionGate(
      options.max,
      options.maxQueued ?? options.max * 20,
      options.maxWaitMs ?? options.attemptTimeoutMs,
    );
    this.pool = (options.createPool ?? ((config) => new Pool(config)))({
      connectionString: options.connectionString,
      max: options.max,
      // Backstops only: the attempt's own timer (query) decides, and closes the connection.
      connectionTimeoutMillis: options.attemptTimeoutMs,
      idleTimeoutMillis: options.idleTimeoutMs ?? 30_000,
      maxLifetimeSeconds: options.maxLifetimeSeconds ?? 300,
      keepAlive: true,
      allowExitOnIdle: true,
      application_name: "questdb-dashboard",
      types: questdbTypes,
    });
    // Without this listener pg's documented behaviour is a crash when an idle connection dies.
    this.pool.on("error", (error) => {
      const description = this.describe("keep an idle connection", error);
      this.noteFailure(description);
      this.emit({ type: "idle_connection_lost", error: description, errorType: this.classify(error).errorType });
    });
    // A checked-out client has no pool listener; an 'error' between queries must not crash either.
    this.pool.on("connect", (client) => {
      client.on("error", () => undefined);
    });
    const healthTimer = setInterval(() => void this.checkHealth(), options.healthIntervalMs);
    healthTimer.unref();
    this.lifecycle = { state: "serving", healthTimer };
  }

  /** The failure's kind and cause, naming this endpoint, without the password: the one classifier of its failures. */
  private classify(error: unknown): FailureInfo {
    return classifyFailure(error, { endpoint: this.endpoint, secrets: this.secrets });
  }

  describe(operation: string, error: unknown): string {
    return describeFailure(operation, error, { endpoint: this.endpoint, secrets: this.secrets });
  }

  stats(): PoolStats {
    return {
      total: this.pool.totalCount,
      idle: this.pool.idleCount,
      waiting: this.gate.waiting + this.pool.waitingCount,
    };
  }

  health(): PoolHealth {
    return { ...this.contact };
  }

  /** QuestDB answered (a query's answer, told by the service; or this pool's own health check). */
  noteSuccess(at = new Date()): void {
    this.contact.lastSuccessAt = at;
    this.contact.reachable = true;
  }

  /** QuestDB could not be had, in words (a query's failure, told by the service; or a lost connection). */
  noteFailure(description: string, at = new Date()): void {
    this.contact.lastError = description;
    this.contact.lastErrorAt = at;
    this.contact.reachable = false;
  }

  /** Whether QuestDB answered a request sent at or after `since` (epoch ms). */
  answeredSince(since: number): boolean {
    return this.lastAnsweredSentAt >= since;
  }

  /**
   * Runs one attempt: a slot, a connection, the query, all within the attempt limit. What it
   * throws is classified here, once. A connection that failed is destroyed, not returned; so is
   * one whose query ran out of time, which also stops the query on QuestDB.
   */
  async query<R extends QueryResultRow = QueryResultRow>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    if (this.lifecycle.state === "closed") throw this.classified(new Error("the QuestDB pool is closed"));
    const releaseSlot = await this.gate.acquire().catch((error: unknown) => {
      throw this.classified(error instanceof GateBusyError ? new PoolBusyError(error.message) : error);
    });
    const startedAt = Date.now();
    const limitMs = this.options.attemptTimeoutMs;
    const attempt = startAttempt(this.pool, sql, params, limitMs);
    try {
      const rows = (await attempt.result) as R[];
      this.lastAnsweredSentAt = Math.max(this.lastAnsweredSentAt, startedAt);
      releaseSlot();
      return rows;
    } catch (error) {
      if (attempt.phase() === "connect-timeout") {
        // The slot is held until the late connection, if any, is closed.
        void attempt.discard().finally(releaseSlot);
        throw this.classified(new AttemptTimeoutError(limitMs));
      }
      if (attempt.phase() === "query-timeout") {
        void attempt.discard(); // closing the connection stops the query on QuestDB
        const alive = this.answeredSince(startedAt) || (await this.probeFailure()) === null;
        releaseSlot();
        throw this.classified(alive ? new SlowCallError(limitMs) : new AttemptTimeoutError(limitMs));
      }
      const failed = this.classified(error);
      attempt.finish(isConnectionFailure(failed.failure) ? failed : undefined);
      releaseSlot();
      throw failed;
    }
  }

  private classified(error: unknown): ClassifiedError {
    return toClassifiedError(error, { endpoint: this.endpoint, secrets: this.secrets });
  }

  /** `SELECT 1` on a pooled connection within the probe limit: null if QuestDB answered, else why not. */
  private async probeFailure(): Promise<unknown> {
    const sentAt = Date.now();
    const attempt = startAttempt(this.pool, "SELECT 1", [], this.probeTimeoutMs);
    try {
      await attempt.result;
      this.lastAnsweredSentAt = Math.max(this.lastAnsweredSentAt, sentAt);
      return null;
    } catch (error) {
      if (attempt.phase() === "failed") {
        attempt.finish(this.classified(error));
        return error;
      }
      void attempt.discard();
      return new AttemptTimeoutError(this.probeTimeoutMs);
    }
  }

  /**
   * One `SELECT 1` per interval for the endpoint (on a free slot only: a pool busy to its limit
   * is told about by its own queries). A failure on a connection that went dead while idle is
   * tried once more on a fresh one before QuestDB is called unreachable.
   */
  async checkHealth(): Promise<boolean | null> {
    if (this.lifecycle.state !== "serving") return null;
    const releaseSlot: ReleaseSlot | null = this.gate.tryAcquire();
    if (!releaseSlot) return null;
    const { healthTimer } = this.lifecycle;
    this.lifecycle = { state: "checking", healthTimer };
    try {
      const since = Date.now();
      const failure = (await this.probeFailure()) && (await this.probeFailure());
      this.contact.lastCheckAt = new Date();
      if (!failure) {
        this.noteSuccess(this.contact.lastCheckAt);
        this.emit({ type: "health_checked", ok: true });
        return true;
      }
      const answered = this.answeredSince(since);
      const description = this.describe("run the health check", failure);
      if (!answered) this.noteFailure(description);
      this.emit({
        type: "health_check_failed",
        answered,
        error: description,
        errorType: this.classify(failure).errorType,
        evicted: 2,
        checked: 2,
      });
      return answered;
    } finally {
      // Closed meanwhile: it stays closed.
      if (this.lifecycle.state === "checking") this.lifecycle = { state: "serving", healthTimer };
      releaseSlot();
    }
  }

  async close(): Promise<void> {
    if (this.lifecycle.state === "closed") return;
    clearInterval(this.lifecycle.healthTimer);
    this.lifecycle = { state: "closed" };
    await this.pool.end().catch(() => undefined);
  }
}
