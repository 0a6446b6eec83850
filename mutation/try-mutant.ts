import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A hand-written change the unit tests must catch: `find` (exact, once in `file`) becomes `replace`. */
export interface NamedMutant {
  name: string;
  file: string;
  find: string;
  replace: string;
}

export type Verdict =
  | { status: "killed"; detail: string }
  | { status: "SURVIVED"; detail: string }
  | { status: "stale"; detail: string }
  | { status: "invalid"; detail: string };

export interface SuiteRun {
  passed: boolean;
  /** Full names of the failing tests, or why the suite failed without a failing test. */
  failures: string[];
  output: string;
}

// The mutation config runs the unit tests only: a suite that hangs this long hangs for good.
const SUITE_TIMEOUT_MS = 180_000;
const TYPECHECK_TIMEOUT_MS = 60_000;
const VITEST = ["node_modules/vitest/vitest.mjs", "run", "--config", "vitest.mutation.mts"];
const TYPECHECK = ["--import", "tsx", join(__dirname, "typecheck.ts")];

let running: ChildProcess | undefined;

/** Kills the child in progress (vitest or the typecheck), if any: its whole process group. */
export function stopRunningChild(): void {
  if (running?.pid === undefined || running.exitCode !== null || running.signalCode !== null) return;
  try {
    process.kill(-running.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Runs `node <args>` in `dir`, in its own process group, killed after `timeoutMs` (code null). */
function runNode(dir: string, args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: dir, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    running = child;
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(stopRunningChild, timeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      running = undefined;
      resolve({ code, output });
    });
  });
}

interface VitestJson {
  testResults: {
    name: string;
    status: string;
    message: string;
    assertionResults: { fullName: string; status: string }[];
  }[];
}

/** Runs the mutation test suite in `dir`; its result is read from vitest's JSON report. */
export async function runSuite(dir: string): Promise<SuiteRun> {
  const reportFile = join(dir, "named-mutant-run.json");
  rmSync(reportFile, { force: true });
  const { code, output } = await runNode(
    dir,
    [...VITEST, "--reporter=default", "--reporter=json", `--outputFile.json=${reportFile}`],
    SUITE_TIMEOUT_MS,
  );
  if (code === 0) return { passed: true, failures: [], output };
  if (code === null)
    return { passed: false, failures: [`the suite hung (killed after ${SUITE_TIMEOUT_MS / 1000} s)`], output };
  return { passed: false, failures: failuresIn(reportFile, code), output };
}

function failuresIn(reportFile: string, exitCode: number): string[] {
  let report: VitestJson;
  try {
    report = JSON.parse(readFileSync(reportFile, "utf8")) as VitestJson;
  } catch {
    return [`vitest exited with ${exitCode} and wrote no report`];
  }
  const failures: string[] = [];
  for (const file of report.testResults) {
    const failed = file.assertionResults.filter((test) => test.status === "failed");
    if (failed.length > 0) failures.push(...failed.map((test) => test.fullName));
    else if (file.status === "failed")
      failures.push(`${file.name}: ${file.message.split("\n")[0] ?? "failed to load"}`);
  }
  return failures.length > 0 ? failures : [`vitest exited with ${exitCode}`];
}

/** TypeScript's errors in one file of the snapshot (see typecheck.ts). */
async function typeErrors(dir: string, file: string): Promise<string[]> {
  const { code, output } = await runNode(dir, [...TYPECHECK, file], TYPECHECK_TIMEOUT_MS);
  if (code !== 0) throw new Error(`typechecking ${file} failed (exit ${code}): ${output}`);
  return output.split("\n").filter((line) => line !== "");
}

function occurrences(text: string, find: string): number {
  let count = 0;
  for (let at = text.indexOf(find); at !== -1; at = text.indexOf(find, at + find.length)) count++;
  return count;
}

/**
 * Writes the mutant into the snapshot in `dir`, runs the suite, and puts the file back byte for
 * byte whatever happens. A mutant whose `find` is not there (once) is stale; one that does not
 * typecheck is invalid (the compiler would catch it, not the tests).
 */
export async function tryMutant(dir: string, mutant: NamedMutant): Promise<Verdict> {
  const path = join(dir, mutant.file);
  const original = readFileSync(path);
  const text = original.toString("utf8");
  const found = occurrences(text, mutant.find);
  if (found !== 1)
    return {
      status: "stale",
      detail:
        found === 0
          ? "stale mutant (code changed): `find` not in the file"
          : `stale mutant: \`find\` matches ${found} places`,
    };
  const before = (await typeErrors(dir, mutant.file)).length;
  try {
    writeFileSync(
      path,
      text.replace(mutant.find, () => mutant.replace),
    );
    const errors = await typeErrors(dir, mutant.file);
    if (errors.length > before) return { status: "invalid", detail: `does not typecheck: ${errors[0]}` };
    const run = await runSuite(dir);
    if (run.passed) return { status: "SURVIVED", detail: "every test passed" };
    const more = run.failures.length > 1 ? ` (+${run.failures.length - 1} more)` : "";
    return { status: "killed", detail: `${run.failures[0]}${more}` };
  } finally {
    writeFileSync(path, original);
  }
}
