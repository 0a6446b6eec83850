import { Pool, types as pgTypes, type PoolClient, type QueryResultRow } from "pg";
import { classifyFailure, describeFailure, isConnectionFailure, toClassifiedError, type FailureInfo } from "./errors";
import { ignoreEvents, type EmitQuestdbEvent } from "./events";

/**
 * One pg pool per QuestDB endpoint, hardened against what we measured with a raw pool:
 * - an `error` listener on the pool and on every client, so a connection that dies while idle or
 *   between queries is dropped instead of crashing the process;
 * - `connectionTimeoutMillis` and `query_timeout`, so a frozen QuestDB cannot hold a caller
 *   (pg's defaults wait forever);
 * - a `SELECT 1` health check on the idle connections every interval: a connection that fails is
 *   evicted, a new one is made when needed, and each result is remembered for /api/health.
 */

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export interface PoolHealth {
  lastSuccessAt: Date | null;
  lastError: string | null;
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
  /** Health checks, lost idle connections: the service listens (and releases the breaker). */
  emit?: EmitQuestdbEvent;
}

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
  private readonly secrets: string[];
  private readonly emit: EmitQuestdbEvent;
  private readonly healthTimer: NodeJS.Timeout;
  private checking = false;
  private closed = false;
  private state: PoolHealth = { lastSuccessAt: null, lastError: null, lastCheckAt: null, reachable: null };

  constructor(private readonly options: QuestdbPoolOptions) {
    const url = new URL(options.connectionString);
    this.endpoint = endpointOf(options.connectionString);
    this.secrets = url.password ? [decodeURIComponent(url.password)] : [];
    this.emit = options.emit ?? ignoreEvents;
    this.pool = new Pool({
      connectionString: options.connectionString,
      max: options.max,
      connectionTimeoutMillis: options.attemptTimeoutMs,
      query_timeout: options.attemptTimeoutMs,
      idleTimeoutMillis: 30_000,
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
    this.healthTimer = setInterval(() => void this.checkHealth(), options.healthIntervalMs);
    this.healthTimer.unref();
  }

  /** The failure's kind and cause, naming this endpoint, without the password. */
  classify(error: unknown): FailureInfo {
    return classifyFailure(error, { endpoint: this.endpoint, secrets: this.secrets });
  }

  describe(operation: string, error: unknown): string {
    return describeFailure(operation, error, { endpoint: this.endpoint, secrets: this.secrets });
  }

  stats(): PoolStats {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  health(): PoolHealth {
    return { ...this.state };
  }

  noteSuccess(at = new Date()): void {
    this.state.lastSuccessAt = at;
    this.state.reachable = true;
  }

  noteFailure(description: string): void {
    this.state.lastError = description;
    this.state.reachable = false;
  }

  /**
   * Runs one query on a pooled connection. A connection that failed is destroyed, not returned.
   * `signal` (the policy's per-attempt timeout) releases the caller at once; the connection is
   * destroyed when the abandoned query ends so it never serves another caller half-used.
   * What it throws is classified here, once (a `ClassifiedError` naming this endpoint).
   */
  async query<R extends QueryResultRow = QueryResultRow>(
    sql: string,
    params: readonly unknown[] = [],
    signal?: AbortSignal,
  ): Promise<R[]> {
    if (this.closed) throw new Error("the QuestDB pool is closed");
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw toClassifiedError(error, { endpoint: this.endpoint, secrets: this.secrets });
    }
    if (signal?.aborted) {
      client.release(true);
      throw signal.reason ?? new Error("aborted");
    }
    let failed: ReturnType<typeof toClassifiedError> | undefined;
    try {
      const result = await client.query<R>(sql, params as unknown[]);
      return result.rows;
    } catch (error) {
      failed = toClassifiedError(error, { endpoint: this.endpoint, secrets: this.secrets });
      throw failed;
    } finally {
      // Query errors leave the connection usable; connection failures and aborts do not.
      const broken = failed !== undefined && (isConnectionFailure(failed.failure) || signal?.aborted);
      client.release(broken ? failed : undefined);
    }
  }

  /**
   * `SELECT 1` on every idle connection (or on a new one when none is idle and there is room).
   * A busy pool at its limit is left alone: its own queries tell us whether QuestDB answers.
   */
  async checkHealth(): Promise<boolean | null> {
    if (this.checking || this.closed) return null;
    this.checking = true;
    try {
      const { total, idle } = this.stats();
      const count = idle > 0 ? idle : total < this.options.max ? 1 : 0;
      if (count === 0) return null;
      const clients = await Promise.allSettled(Array.from({ length: count }, () => this.pool.connect()));
      const checks = clients.map(async (acquired) => {
        if (acquired.status === "rejected") throw acquired.reason;
        const client: PoolClient = acquired.value;
        try {
          await client.query("SELECT 1");
          client.release();
        } catch (error) {
          client.release(error as Error); // evict
          throw error;
        }
      });
      const results = await Promise.allSettled(checks);
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      this.state.lastCheckAt = new Date();
      if (failures.length === 0) {
        this.noteSuccess(this.state.lastCheckAt);
        this.emit({ type: "health_checked", ok: true });
        return true;
      }
      const description = this.describe("run the health check", failures[0]!.reason);
      // Some connections answered: QuestDB is up, only the dead ones were evicted.
      const answered = failures.length < count;
      if (answered) this.noteSuccess(this.state.lastCheckAt);
      else this.noteFailure(description);
      this.emit({
        type: "health_check_failed",
        answered,
        error: description,
        errorType: this.classify(failures[0]!.reason).errorType,
        evicted: failures.length,
        checked: count,
      });
      return answered;
    } finally {
      this.checking = false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.healthTimer);
    await this.pool.end().catch(() => undefined);
  }
}
