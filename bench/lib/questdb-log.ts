import { readLog } from "../../harness/log-file";

/**
 * QuestDB's own view of what reached it: it logs `QueryProgress exe [id=…, sql=`…`]` once per
 * query it executes. Counting those lines between two offsets of its log cross-checks the app's
 * `questdb_queries_started_total`.
 */

/** How many times QuestDB logged the execution of each of `sqls` between the two offsets. */
export function countExecutions(
  file: string,
  from: number,
  to: number,
  sqls: Record<string, string>,
): Record<string, number> & { other: number } {
  const text = readLog(file, from, to);
  const counts: Record<string, number> = {};
  for (const name of Object.keys(sqls)) counts[name] = 0;
  let other = 0;
  for (const match of text.matchAll(/QueryProgress exe \[id=-?\d+, sql=`([^`]*)`/g)) {
    const sql = match[1]!;
    const name = Object.keys(sqls).find((key) => sqls[key] === sql);
    if (name) counts[name]! += 1;
    else other++;
  }
  return Object.assign(counts, { other });
}
