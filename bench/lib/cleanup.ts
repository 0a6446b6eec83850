import { rmSync } from "node:fs";
import { killLiveChildren } from "../../harness/child-cleanup";

/**
 * Everything the benchmark creates, undone however the process ends: normal end, an exception,
 * Ctrl-C or SIGTERM. Its child processes (QuestDB, the app, the baseline, the build) are killed
 * by the launchers' own clean-up (harness/child-cleanup.ts); temporary directories are removed
 * once those kills are sent.
 */

const tempDirs = new Set<string>();
let installed = false;

/** Synchronous: safe inside an 'exit' handler. */
export function cleanupNow(): void {
  void killLiveChildren();
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

export function trackTempDir(dir: string): () => void {
  tempDirs.add(dir);
  return () => {
    tempDirs.delete(dir);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
}
