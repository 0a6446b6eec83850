import { parseArgs } from "node:util";
import { join } from "node:path";
import { isMain } from "../harness/is-main";
import { createSnapshot, type Snapshot } from "./snapshot";
import { runSuite, stopRunningChild, tryMutant, type NamedMutant, type Verdict } from "./try-mutant";

/**
 * `tsx mutation/named-mutants.ts [--server-at <commit>]` (first half of `npm run mutation`):
 * mistakes we have made or nearly made in the QuestDB layer, each of which the unit tests must
 * catch. Stryker does not generate them. Each is tried in a copy of the repository (see
 * snapshot.ts), never in the working tree. Exits non-zero if one survives or no longer applies.
 */

const QUESTDB = "server/questdb";

// One row a mutant: its name, the file under server/questdb, the exact text and what it becomes.
const MUTANT_TABLE: [name: string, file: string, find: string, replace: string][] = [
  [
    "retry moved inside the breaker",
    "policy.ts",
    "return retryPolicy.execute(underEndpoint);",
    "return endpoint.breaker.execute(() => retryPolicy.execute(() => operations.execute(operation, once)));",
  ],
  [
    "attempt timeout made a non-connection error",
    "errors.ts",
    'if (error instanceof AttemptTimeoutError) return { kind: "connection_timeout"',
    'if (error instanceof AttemptTimeoutError) return { kind: "query_failed"',
  ],
  ["EPIPE dropped", "errors.ts", '"EPIPE", ', ""],
  [
    "AggregateError classified by its first inner error",
    "errors.ts",
    "parts.find((p) => isConnectionFailure(p)) ?? parts[0]!",
    "parts[0]!",
  ],
  [
    "release() instead of release(err) for a broken connection",
    "pool.ts",
    "attempt.finish(isConnectionFailure(failed.failure) ? failed : undefined)",
    "attempt.finish(undefined)",
  ],
  [
    "the health check's release unwired",
    "early-release.ts",
    "if (!answered || !deps.policy.releaseBreaker()) return;",
    "return;",
  ],
];

export const NAMED_MUTANTS: NamedMutant[] = MUTANT_TABLE.map(([name, file, find, replace]) => ({
  name,
  file: `${QUESTDB}/${file}`,
  find,
  replace,
}));

const REPO = join(__dirname, "..");

function printTable(results: { mutant: NamedMutant; verdict: Verdict }[]): void {
  const rows = results.map(({ mutant, verdict }) => [mutant.name, mutant.file, verdict.status, verdict.detail]);
  const header = ["mutant", "file", "verdict", "detail"];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ");
  console.log(line(header));
  console.log(line(widths.map((width) => "-".repeat(width))));
  for (const row of rows) console.log(line(row));
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { "server-at": { type: "string" } } });
  const serverAt = values["server-at"];
  let snapshot: Snapshot | undefined;
  const interrupted = (signal: NodeJS.Signals) => {
    stopRunningChild();
    snapshot?.remove();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    snapshot = createSnapshot(REPO, serverAt);
    console.log(
      `Named mutants: the unit tests (vitest.mutation.mts) in a copy of the repo${serverAt ? `, server/ at ${serverAt}` : ""}`,
    );
    const baseline = await runSuite(snapshot.dir);
    if (!baseline.passed) {
      console.error(baseline.output);
      console.error(`The suite fails with no mutant (${baseline.failures[0]}): fix it first, or try --server-at HEAD.`);
      return 2;
    }
    const results: { mutant: NamedMutant; verdict: Verdict }[] = [];
    for (const mutant of NAMED_MUTANTS) {
      const verdict = await tryMutant(snapshot.dir, mutant);
      console.log(`  ${verdict.status.padEnd(8)} ${mutant.name}`);
      results.push({ mutant, verdict });
    }
    console.log("");
    printTable(results);
    const failed = results.filter(({ verdict }) => verdict.status !== "killed").length;
    if (failed > 0) console.error(`\n${failed} of ${results.length} named mutants not killed.`);
    return failed > 0 ? 1 : 0;
  } finally {
    snapshot?.remove();
  }
}

if (isMain(typeof module === "undefined" ? undefined : module)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.stack : String(error));
      process.exit(1);
    },
  );
}
