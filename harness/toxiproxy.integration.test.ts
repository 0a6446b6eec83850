import { rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { pgUrlFor, startTestQuestdb, type QuestdbProcess } from "./questdb-process";
import { startToxiproxy, toxic, type Proxy, type Toxiproxy } from "./toxiproxy";

/**
 * A real Toxiproxy in front of a real QuestDB's PG wire port: each toxic is shown to do what it
 * says to a plain pg.Client, in a way that would fail if the toxic did nothing. Times are only
 * ever bounded from below.
 */

let questdb: QuestdbProcess;
let toxiproxy: Toxiproxy;
let proxy: Proxy;
const clients: pg.Client[] = [];

type PgFailure = Error & { code?: string };

/** A client through the proxy; its 'error' events are expected here, not crashes. */
function clientThroughProxy(config: pg.ClientConfig = {}): pg.Client {
  const client = new pg.Client({
    connectionString: pgUrlFor(proxy.listenPort),
    connectionTimeoutMillis: 5_000,
    ...config,
  });
  client.on("error", () => {});
  clients.push(client);
  return client;
}

async function connectThroughProxy(config: pg.ClientConfig = {}): Promise<pg.Client> {
  const client = clientThroughProxy(config);
  await client.connect();
  return client;
}

/** The error a piece of work fails with; the test fails if it succeeds. */
async function failureOf(work: Promise<unknown>): Promise<PgFailure> {
  try {
    await work;
  } catch (error) {
    return error as PgFailure;
  }
  throw new Error("expected a failure, but it succeeded");
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await work();
  return [value, performance.now() - start];
}

beforeAll(async () => {
  // The first run on a machine builds toxiproxy-server with Go (about 40 s).
  [questdb, toxiproxy] = await Promise.all([startTestQuestdb(), startToxiproxy()]);
  proxy = await toxiproxy.createProxy("questdb_pg", `127.0.0.1:${questdb.pgPort}`);
}, 300_000);

afterEach(async () => {
  // A client stuck behind a blackhole may never see its close: do not wait for it for long.
  await Promise.all(clients.splice(0).map((client) => Promise.race([client.end().catch(() => {}), sleep(1_000)])));
  await proxy.resetToxics();
  await proxy.enable();
});

afterAll(async () => {
  await proxy?.delete().catch(() => {});
  await toxiproxy?.stop();
  await questdb?.stop();
  if (questdb) rmSync(questdb.dataDir, { recursive: true, force: true });
});

// A timer may fire a hair before the clock read around it says its delay has passed (seen: 999.9996
// ms for 1,000): lower bounds allow for that; the error each toxic causes is checked exactly.
const TIMER_SLACK = 0.98;

describe("Toxiproxy in front of QuestDB's PG wire port", () => {
  it("listens on its own port and passes queries through unchanged", async () => {
    expect(await toxiproxy.version()).not.toBe("");
    expect(proxy.listenPort).not.toBe(questdb.pgPort);
    const client = await connectThroughProxy();
    const result = await client.query("SELECT 1 AS one");
    expect(result.rows).toEqual([{ one: 1 }]);
  });

  it("reports a toxic with its defaults filled in, and removes it by name", async () => {
    const added = await proxy.addToxic(toxic.latency(500));
    expect(added).toEqual({
      name: "latency_downstream",
      type: "latency",
      stream: "downstream",
      toxicity: 1,
      attributes: { latency: 500, jitter: 0 },
    });
    await proxy.addToxic(toxic.limitData(1_000, { name: "cut", stream: "upstream", toxicity: 0.5 }));
    expect((await proxy.toxics()).map((t) => t.name).sort()).toEqual(["cut", "latency_downstream"]);
    await proxy.removeToxic("cut");
    expect((await proxy.toxics()).map((t) => t.name)).toEqual(["latency_downstream"]);
    await proxy.resetToxics();
    expect(await proxy.toxics()).toEqual([]);
  });

  it("latency: 500 ms delays the answer to a query by at least 500 ms", async () => {
    const client = await connectThroughProxy();
    await proxy.addToxic(toxic.latency(500));
    const [result, elapsedMs] = await timed(() => client.query("SELECT 1 AS one"));
    expect(result.rows).toEqual([{ one: 1 }]);
    expect(elapsedMs).toBeGreaterThanOrEqual(500 * TIMER_SLACK);
  });

  it("bandwidth: 500 KB/s makes a 100,000-row result take at least 2 s", async () => {
    const client = await connectThroughProxy();
    await proxy.addToxic(toxic.bandwidth(500));
    // Each text DataRow is at least 11 bytes of framing, so the result is over 1.1 MB: ≥ 2.2 s at 500 KB/s.
    const [result, elapsedMs] = await timed(() => client.query("SELECT x FROM long_sequence(100000)"));
    expect(result.rowCount).toBe(100_000);
    expect(elapsedMs).toBeGreaterThanOrEqual(2_000);
  });

  it("timeout 0 (a blackhole): a query with query_timeout 1000 fails with a read timeout", async () => {
    const client = await connectThroughProxy({ query_timeout: 1_000 });
    await proxy.addToxic(toxic.timeout(0));
    const [error, elapsedMs] = await timed(() => failureOf(client.query("SELECT 1")));
    expect(error.message).toBe("Query read timeout");
    expect(elapsedMs).toBeGreaterThanOrEqual(1_000 * TIMER_SLACK);
  });

  it("timeout 0 (a blackhole): a new connection fails after connectionTimeoutMillis", async () => {
    await proxy.addToxic(toxic.timeout(0));
    const [error, elapsedMs] = await timed(() => failureOf(connectThroughProxy({ connectionTimeoutMillis: 1_000 })));
    expect(error.message).toBe("timeout expired");
    expect(elapsedMs).toBeGreaterThanOrEqual(1_000 * TIMER_SLACK);
  });

  it("reset_peer: a new connection is reset (ECONNRESET)", async () => {
    await proxy.addToxic(toxic.resetPeer());
    const error = await failureOf(connectThroughProxy());
    expect(error.code).toBe("ECONNRESET");
  });

  it("reset_peer: an open connection is closed under a query (Connection terminated)", async () => {
    // Toxiproxy sets SO_LINGER 0 (so a RST) only on connections made while the toxic is in place.
    const client = await connectThroughProxy();
    await proxy.addToxic(toxic.resetPeer());
    const error = await failureOf(client.query("SELECT 1"));
    expect(error.message).toBe("Connection terminated unexpectedly");
  });

  it("limit_data: a connection cut in the middle of a large result fails the query, no partial rows", async () => {
    const client = await connectThroughProxy();
    const whole = await client.query("SELECT x FROM long_sequence(100000)");
    expect(whole.rowCount).toBe(100_000);

    await proxy.addToxic(toxic.limitData(10_000));
    const error = await failureOf(client.query("SELECT x FROM long_sequence(100000)"));
    expect(error.message).toBe("Connection terminated unexpectedly");
  });

  it("slow_close: closing a connection takes at least the delay", async () => {
    const client = await connectThroughProxy();
    await proxy.addToxic(toxic.slowClose(1_000));
    const [, elapsedMs] = await timed(() => client.end());
    expect(elapsedMs).toBeGreaterThanOrEqual(1_000 * TIMER_SLACK);
  });

  it("disable(): open connections are closed and new ones refused; enable(): works again", async () => {
    const open = await connectThroughProxy();
    await proxy.disable();
    const openError = await failureOf(open.query("SELECT 1"));
    // Which of the two depends on whether pg saw the close before it sent the query.
    expect(openError.message).toMatch(
      /^(Connection terminated unexpectedly|Client has encountered a connection error and is not queryable)$/,
    );
    const refused = await failureOf(connectThroughProxy());
    expect(refused.code).toBe("ECONNREFUSED");

    await proxy.enable();
    const client = await connectThroughProxy();
    expect((await client.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  });
});
