import type { ChildProcess } from "node:child_process";

/**
 * Child processes that must not outlive this process (QuestDB, `next start`, a build): SIGKILLed
 * (after SIGCONT, so a frozen one dies too) however this process ends — normal exit, an
 * exception, Ctrl-C or SIGTERM. The launchers register their children here, so no caller has to.
 */

const liveChildren = new Set<ChildProcess>();
let handlersInstalled = false;

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/**
 * SIGKILLs every registered child now (the signals are sent before it returns, so it is safe in an
 * 'exit' handler); resolves once they are gone (or after 3 s).
 */
export function killLiveChildren(): Promise<void> {
  const exits: Promise<void>[] = [];
  for (const child of liveChildren) {
    if (isRunning(child)) exits.push(new Promise<void>((resolve) => child.once("exit", () => resolve())));
    try {
      child.kill("SIGCONT");
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, 3_000)));
  return Promise.race([Promise.all(exits).then(() => undefined), limit]).finally(() => clearTimeout(timer));
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // 'exit' handlers run synchronously: the kill is sent, the exit cannot be awaited.
  process.on("exit", () => void killLiveChildren());
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const handler = () => {
      const killed = killLiveChildren();
      // If nobody else handles the signal, behave as if we had not installed a handler: die of
      // it (after the children are reaped, so none lingers even as a zombie).
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, handler);
        void killed.then(() => process.kill(process.pid, signal));
      }
    };
    process.on(signal, handler);
  }
}

/** Registers a child to be killed with this process; it leaves the set when it exits. */
export function killWithThisProcess(child: ChildProcess): void {
  installHandlers();
  if (!isRunning(child)) return;
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
}
