import type pg from "pg";
import { withClient } from "./pg-client";

/** When rows written over ILP become visible: QuestDB applies WAL transactions after the write returns. */

interface WalState {
  name: string;
  suspended: boolean;
  writerTxn: number;
  sequencerTxn: number;
  errorMessage: string;
}

async function walState(client: pg.Client, tables: readonly string[]): Promise<Map<string, WalState>> {
  const result = await client.query<{
    name: string;
    suspended: boolean;
    writerTxn: string;
    sequencerTxn: string;
    errorMessage: string | null;
  }>("SELECT name, suspended, writerTxn, sequencerTxn, errorMessage FROM wal_tables()");
  const states = new Map<string, WalState>();
  for (const row of result.rows) {
    if (!tables.includes(row.name)) continue;
    states.set(row.name, {
      name: row.name,
      suspended: row.suspended,
      writerTxn: Number(row.writerTxn),
      sequencerTxn: Number(row.sequencerTxn),
      errorMessage: row.errorMessage ?? "",
    });
  }
  return states;
}

/** Whether every table has applied the target's transactions; throws for a table that cannot. */
function allApplied(now: Map<string, WalState>, target: Map<string, WalState>, tables: readonly string[]): boolean {
  let done = true;
  for (const table of tables) {
    const state = now.get(table);
    if (!state) throw new Error(`table ${table} is not a WAL table (not in wal_tables())`);
    if (state.suspended) {
      throw new Error(`table ${table} is suspended: ${state.errorMessage || "WAL apply failed"}`);
    }
    if (state.writerTxn < (target.get(table)?.sequencerTxn ?? 0)) done = false;
  }
  return done;
}

/**
 * Waits until every WAL transaction committed so far to these tables has been applied, i.e. the
 * rows are visible to queries (writerTxn catches up with the sequencerTxn seen at the start).
 */
export async function waitForWalApplied(pgUrl: string, tables: readonly string[], timeoutMs = 60_000): Promise<void> {
  await withClient(pgUrl, async (client) => {
    const target = await walState(client, tables);
    const deadline = Date.now() + timeoutMs;
    while (!allApplied(await walState(client, tables), target, tables)) {
      if (Date.now() > deadline) {
        throw new Error(`rows written to ${tables.join(", ")} not visible after ${timeoutMs} ms (WAL apply lag)`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
}
