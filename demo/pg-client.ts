import pg from "pg";

/** Runs `fn` with a fresh PG-wire connection to QuestDB, closed afterwards whatever happens. */
export async function withClient<T>(pgUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 5_000, query_timeout: 30_000 });
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** How many rows a table holds. */
export async function countRows(client: pg.Client, table: string): Promise<number> {
  const result = await client.query<{ n: string }>(`SELECT count() AS n FROM ${table}`);
  return Number(result.rows[0]?.n ?? 0);
}
