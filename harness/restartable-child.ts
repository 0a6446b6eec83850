import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { killWithThisProcess } from "./child-cleanup";
import { isRunning, stopChild, whenExited } from "./child-exit";
import { lastLine, logSize, readLog } from "./log-file";

/** What a server logs (and exits with) when its port is taken. */
export function isBindFailure(failure: string): boolean {
  return /address already in use/i.test(failure);
}

/**
 * The current child of a server that tests crash, freeze and start again (QuestDB's and Redis's
 * launchers): a restart replaces the child, and every signal goes to the one that is current.
 */
export abstract class RestartableChild {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  /** The pid of the current process (the last one, after it exited). */
  get pid(): number {
    return this.child?.pid ?? -1;
  }

  isRunning(): boolean {
    return this.child !== null && isRunning(this.child);
  }

  /** SIGKILL (no shutdown at all, like a crash) and wait until the process is gone. */
  async kill(): Promise<void> {
    if (!this.isRunning()) return;
    this.child?.kill("SIGKILL");
    await this.exited;
  }

  /** SIGSTOP: the process keeps its ports and accepts TCP connections, but answers nothing. */
  freeze(): void {
    if (this.isRunning()) this.child?.kill("SIGSTOP");
  }

  /** SIGCONT: undoes freeze(). */
  thaw(): void {
    if (this.isRunning()) this.child?.kill("SIGCONT");
  }

  /** SIGCONT (in case frozen), SIGTERM, SIGKILL after `graceMs` (5 s by default); resolves once gone. */
  protected async stopCurrent(graceMs?: number): Promise<void> {
    const child = this.child;
    if (child === null) return;
    await stopChild(child, this.exited, {
      graceMs,
      terminate: () => {
        child.kill("SIGCONT");
        child.kill("SIGTERM");
      },
    });
  }

  /** Makes a freshly spawned child the current one. */
  protected adopt(child: ChildProcess): void {
    this.child = child;
    this.exited = whenExited(child);
  }

  /** Resolves once the current child has exited (or could not be spawned). */
  protected whenCurrentExited(): Promise<void> {
    return this.exited;
  }

  /**
   * Kills the current process and launches another on the same port. The port may stay bound for a
   * moment after the kill, so a launch that fails to bind (`launch` answers why, or null once
   * ready) is tried again until `timeoutMs` has passed; any other failure is thrown as `fail` makes it.
   */
  protected async relaunchOnSamePort(
    launch: (deadline: number) => Promise<string | null>,
    timeoutMs: number,
    fail: (failure: string) => Error,
  ): Promise<void> {
    await this.kill();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const failure = await launch(deadline);
      if (failure === null) return;
      if (!isBindFailure(failure) || Date.now() > deadline) throw fail(failure);
      await sleep(100);
    }
  }

  /**
   * Spawns the server with its output appended to `logFile`, makes it the current child (killed
   * with this process), and waits until `ready()`: null then, otherwise why not in one line — it
   * could not be spawned, it exited (the log line `failureLine` picks), or `deadline` passed (then
   * it is killed).
   */
  protected async spawnUntilReady(opts: {
    logFile: string;
    spawn: (out: number) => ChildProcess;
    ready: () => Promise<boolean>;
    /** What `ready` waits for, in the timeout's words ("PING"). */
    readiness: string;
    failureLine: (log: string) => string | undefined;
    deadline: number;
    pollMs: number;
  }): Promise<string | null> {
    const logOffset = logSize(opts.logFile);
    const out = fs.openSync(opts.logFile, "a");
    let child: ChildProcess;
    try {
      child = opts.spawn(out);
    } finally {
      fs.closeSync(out);
    }
    this.adopt(child);
    let spawnError: Error | undefined;
    child.once("error", (error) => (spawnError = error));
    killWithThisProcess(child);

    for (;;) {
      if (spawnError) return `could not be spawned: ${spawnError.message}`;
      if (!this.isRunning()) {
        const log = readLog(opts.logFile, logOffset);
        const line = opts.failureLine(log) ?? lastLine(log) ?? "(no log)";
        return `exited during start-up (code ${String(child.exitCode)}, signal ${String(child.signalCode)}): ${line.trim().slice(0, 300)}`;
      }
      if (await opts.ready()) return null;
      if (Date.now() > opts.deadline) {
        child.kill("SIGKILL");
        await this.whenCurrentExited();
        return `did not answer ${opts.readiness} in time: ${lastLine(readLog(opts.logFile, logOffset)) ?? "(no log)"}`;
      }
      await sleep(opts.pollMs);
    }
  }
}
