import pg from "pg";
import { waitForWalApplied } from "../../../demo/wal";
import { round, sleep } from "../../../harness/stats";
import type { Sightings, WriteRecord } from "./sightings";

/**
 * The writes whose arrival the viewers time: a new running session inserted into
 * `session_events`, acknowledged on one connection and checked visible on another.
 */

export interface Db {
  writer: pg.Client;
  reader: pg.Client;
  pgUrl: string;
}

async function connect(pgUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 5_000, query_timeout: 10_000 });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

export async function openDb(pgUrl: string): Promise<Db> {
  return { writer: await connect(pgUrl), reader: await connect(pgUrl), pgUrl };
}

export async function closeDb(db: Db): Promise<void> {
  await Promise.all([db.writer.end().catch(() => undefined), db.reader.end().catch(() => undefined)]);
}

const INSERT_SESSION = `INSERT INTO session_events (ts, session_id, strategy, symbol, mode, status, pnl, started_at)
VALUES (now(), $1, 'bench-sse-viewers', 'BTC-USD', 'paper', $2, 0.0, now())`;

/** Polls the other connection until it sees the session (at most 10 s). */
async function timeVisibility(db: Db, record: WriteRecord, committedAt: number): Promise<void> {
  const deadline = committedAt + 10_000;
  while (performance.now() < deadline) {
    const result = await db.reader
      .query<{ n: string }>("SELECT count() AS n FROM session_events WHERE session_id = $1", [record.sessionId])
      .catch(() => null);
    if (Number(result?.rows[0]?.n ?? 0) > 0) {
      record.visibleAfterMs = round(performance.now() - committedAt, 1);
      return;
    }
    await sleep(10);
  }
}

/** Inserts a new running session (registered first, so a sighting can never precede it) and times its visibility. */
export async function writeSession(db: Db, sightings: Sightings, sessionId: string): Promise<void> {
  const record: WriteRecord = { sessionId, committedAt: null, insertMs: null, visibleAfterMs: null };
  sightings.writes.push(record);
  const sent = performance.now();
  try {
    await db.writer.query(INSERT_SESSION, [sessionId, "running"]);
  } catch (error) {
    record.error = error instanceof Error ? error.message : String(error);
    return;
  }
  const committedAt = (record.committedAt = performance.now());
  record.insertMs = round(committedAt - sent, 1);
  await timeVisibility(db, record, committedAt);
}

/** Marks the phase's sessions stopped, so every phase starts from the same active set. */
export async function stopSessions(db: Db, writes: WriteRecord[]): Promise<void> {
  for (const write of writes)
    await db.writer.query(INSERT_SESSION, [write.sessionId, "stopped"]).catch(() => undefined);
  await waitForWalApplied(db.pgUrl, ["session_events"], 20_000);
}
