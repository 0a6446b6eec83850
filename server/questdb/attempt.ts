import type { Pool, PoolClient } from "pg";

/**
 * One attempt on a pooled connection, bounded by `limitMs` from its start (connect included),
 * which knows where it stood when it ended: a connection that never came is a different failure
 * from a query that never answered. Whoever started it decides what to do with its connection:
 * `finish` gives it back (or destroys it, given the error that broke it), `discard` closes it.
 */

export type AttemptPhase = "connecting" | "querying" | "done" | "failed" | "connect-timeout" | "query-timeout";

export interface Attempt {
  /** The rows, or the failure; after the limit, an error saying so (see `phase`). */
  readonly result: Promise<Record<string, unknown>[]>;
  phase(): AttemptPhase;
  /** After a failed query: the connection back to the pool, or destroyed when `broken` is given. */
  finish(broken?: Error): void;
  /** After the limit: close the connection now, or as soon as it arrives. Resolves once closed. */
  discard(): Promise<void>;
}

/** Closing the socket, not just returning the client, is what makes QuestDB drop the query. */
function destroy(client: PoolClient): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  stream?.destroy();
  client.release(new Error("attempt abandoned after its time limit"));
}

export function startAttempt(pool: Pool, sql: string, params: readonly unknown[], limitMs: number): Attempt {
  let phase: AttemptPhase = "connecting";
  let client: PoolClient | undefined;
  const connecting = pool.connect();
  let discarded: Promise<void> | undefined;

  const result = new Promise<Record<string, unknown>[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      phase = phase === "connecting" ? "connect-timeout" : "query-timeout";
      reject(
        new Error(
          `attempt limit of ${limitMs} ms reached while ${phase === "connect-timeout" ? "connecting" : "querying"}`,
        ),
      );
    }, limitMs);
    const fail = (error: unknown) => {
      phase = "failed";
      clearTimeout(timer);
      reject(error);
    };
    connecting.then(
      (connected) => {
        if (phase !== "connecting") return; // too late: discard() closes it
        client = connected;
        phase = "querying";
        connected.query(sql, params as unknown[]).then(
          (answer) => {
            if (phase !== "querying") return;
            phase = "done";
            clearTimeout(timer);
            connected.release();
            resolve(answer.rows as Record<string, unknown>[]);
          },
          (error: unknown) => {
            if (phase === "querying") fail(error);
          },
        );
      },
      (error: unknown) => {
        if (phase === "connecting") fail(error);
      },
    );
  });

  return {
    result,
    phase: () => phase,
    finish(broken) {
      client?.release(broken);
    },
    discard() {
      discarded ??= connecting.then(destroy, () => undefined);
      return discarded;
    },
  };
}
