import { EventEmitter } from "node:events";
import type { Pool, PoolConfig } from "pg";

/**
 * A stand-in for pg's Pool in unit tests of the hardened pool (integration tests use the real
 * QuestDB): each connect and each query does what the test says, and every connection records
 * how it was given back — returned, or destroyed with an error.
 */

export type Behaviour = (sql: string) => Promise<Record<string, unknown>[]>;

export class FakeClient extends EventEmitter {
  released: "no" | "returned" | "destroyed" = "no";
  destroyedWith: Error | undefined;
  readonly queries: string[] = [];
  readonly connection = { stream: { destroyed: false, destroy: () => (this.connection.stream.destroyed = true) } };
  constructor(private readonly pool: FakePgPool) {
    super();
  }
  async query(sql: string): Promise<{ rows: Record<string, unknown>[] }> {
    this.queries.push(sql);
    return { rows: await this.pool.behaviour(sql) };
  }
  release(error?: Error | boolean): void {
    this.released = error ? "destroyed" : "returned";
    if (error instanceof Error) this.destroyedWith = error;
    this.pool.giveBack(this);
  }
}

export class FakePgPool extends EventEmitter {
  config: PoolConfig | undefined;
  behaviour: Behaviour = async () => [{ ok: 1 }];
  /** What the next connect does; by default it connects at once. */
  connectWith: () => Promise<void> = async () => undefined;
  readonly clients: FakeClient[] = [];
  private idle: FakeClient[] = [];
  private busy = new Set<FakeClient>();
  ended = false;

  get totalCount(): number {
    return this.idle.length + this.busy.size;
  }
  get idleCount(): number {
    return this.idle.length;
  }
  get waitingCount(): number {
    return 0;
  }

  async connect(): Promise<FakeClient> {
    await this.connectWith();
    const client = this.idle.pop() ?? new FakeClient(this);
    if (!this.clients.includes(client)) this.clients.push(client);
    client.released = "no";
    this.busy.add(client);
    this.emit("connect", client);
    return client;
  }

  giveBack(client: FakeClient): void {
    this.busy.delete(client);
    if (client.released === "returned") this.idle.push(client);
  }

  async end(): Promise<void> {
    this.ended = true;
  }

  /** As QuestdbPoolOptions.createPool. */
  factory = (config: PoolConfig): Pool => {
    this.config = config;
    return this as unknown as Pool;
  };
}

export const refusedError = () =>
  Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8812"), {
    code: "ECONNREFUSED",
    address: "127.0.0.1",
    port: 8812,
  });
export const resetError = () => Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
export const queryError = () =>
  Object.assign(new Error("table does not exist [table=nope]"), { code: "42P01", severity: "ERROR" });
/** A promise that never settles: a frozen QuestDB. */
export const never = <T>() => new Promise<T>(() => undefined);
