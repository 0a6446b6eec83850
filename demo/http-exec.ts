import type { PreparedQuery } from "../server/questdb/queries";

/** SQL over QuestDB's HTTP /exec endpoint: the live feed's few reads, on the same port as its writes. */

interface ExecResult {
  columns: { name: string; type: string }[];
  dataset: unknown[][];
}

/** Runs one SQL statement over /exec; resolves with the rows as records keyed by column name. */
export async function exec(httpUrl: string, sql: string, timeoutMs: number): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${httpUrl}/exec?query=${encodeURIComponent(sql)}`, {
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await response.json().catch(() => ({}))) as Partial<ExecResult> & { error?: string };
  if (!response.ok || body.error) {
    throw new Error(`QuestDB /exec failed (HTTP ${response.status}): ${body.error ?? response.statusText}`);
  }
  return rowsOf({ columns: body.columns ?? [], dataset: body.dataset ?? [] });
}

function rowsOf(result: ExecResult): Record<string, unknown>[] {
  return result.dataset.map((row) => {
    const record: Record<string, unknown> = {};
    for (const [i, column] of result.columns.entries()) record[column.name] = row[i];
    return record;
  });
}

/**
 * A prepared query's SQL with its parameters written in, for /exec, which takes no bound
 * parameters. Only finite numbers are accepted: no text is ever spliced into SQL.
 */
export function inlineNumericParams(query: Pick<PreparedQuery<unknown>, "sql" | "params">): string {
  return query.sql.replace(/\$(\d+)/g, (_, index: string) => {
    const value = query.params[Number(index) - 1];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new Error(`parameter $${index} is not a number; /exec takes only numbers written into the SQL`);
    }
    return String(value);
  });
}
