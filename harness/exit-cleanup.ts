import { rmSync } from "node:fs";
import { killLiveChildren } from "./child-cleanup";

/**
 * What a command (the benchmark, the chaos soak) leaves behind, undone however it ends: a normal
 * end, an exception, Ctrl-C or SIGTERM. Child processes are killed by the launchers' own clean-up
 * (child-cleanup.ts); the temporary directories registered here are removed once those kills are
 * sent. A command that can stop its children politely passes `stopPolitely`: the first signal runs
 * it, a second one exits at once (the 'exit' handler still kills what is left).
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

/** Registers a directory to remove at the end; the returned function removes it now. */
export function trackTempDir(dir: string): () => void {
  tempDirs.add(dir);
  return () => {
    tempDirs.delete(dir);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
}

export interface ExitCleanupOptions {
  /** Names the command in the line printed on a signal: "bench", "chaos". */
  command: string;
  /** What the printed line says is happening, e.g. "stopping the app and QuestDB…". */
  doing: string;
  /** Run on the first signal before exiting (a polite stop of the children). */
  stopPolitely?: () => Promise<void>;
  /** The exit status after a signal; 128 + the signal's number by default. */
  exitCode?: number;
}

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/** Installs the 'exit' and signal handlers once per process. */
export function installExitCleanup(opts: ExitCleanupOptions): void {
  if (installed) return;
  installed = true;
  process.on("exit", cleanupNow);
  let signalled = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const code = opts.exitCode ?? SIGNAL_EXIT_CODES[signal];
    process.on(signal, () => {
      if (signalled) process.exit(code);
      signalled = true;
      console.error(`\n${opts.command}: ${signal}, ${opts.doing}`);
      if (!opts.stopPolitely) {
        cleanupNow();
        process.exit(code);
      }
      void opts.stopPolitely().finally(() => process.exit(code));
    });
  }
}
