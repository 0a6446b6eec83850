import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";

/**
 * Everything the benchmark starts or creates, undone however the process ends: normal end,
 * an exception, Ctrl-C or SIGTERM. Children get SIGCONT (a frozen QuestDB cannot die of SIGTERM
 * while stopped) then SIGKILL; temporary directories are removed after the children are gone.
 */

const children = new Set<ChildProcess>();
const pidSources = new Set<() => number | undefined>();
const tempDirs = new Set<string>();
let installed = false;

function killPid(pid: number | undefined): void {
  if (pid === undefined || pid <= 0) return;
  for (const signal of ["SIGCONT", "SIGKILL"] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Synchronous: safe inside an 'exit' handler. */
export function cleanupNow(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) killPid(child.pid);
  }
  children.clear();
  for (const source of pidSources) killPid(source());
  pidSources.clear();
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // best effort
    }
  }
  tempDirs.clear();
}

export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on("exit", cleanupNow);
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal}, stopping every child process and removing temporary files`);
      cleanupNow();
      process.exit(code);
    });
  }
}

export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
}

/** For a process whose pid changes (QuestDB across restarts): read at clean-up time. */
export function trackPid(source: () => number | undefined): () => void {
  pidSources.add(source);
  return () => pidSources.delete(source);
}

export function trackTempDir(dir: string): () => void {
  tempDirs.add(dir);
  return () => {
    tempDirs.delete(dir);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
}
