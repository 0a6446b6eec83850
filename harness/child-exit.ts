import type { ChildProcess } from "node:child_process";

/** How the launchers wait for a child to end, and how they end it politely. */

/** How long a helper server (Redis, nginx, Toxiproxy, the app) gets to stop before SIGKILL. */
const DEFAULT_GRACE_MS = 5_000;

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Resolves once the child has exited, or could not be spawned (it then never exits). */
export function whenExited(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!isRunning(child)) resolve();
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
}

export interface StopOptions {
  /** How long after `terminate` it may take before SIGKILL; 5 s by default. */
  graceMs?: number;
  /** The polite request to stop; SIGTERM to the child by default. */
  terminate?: () => void;
  /** Whether there is anything to stop; by default whether the child has not exited. */
  isRunning?: () => boolean;
}

/**
 * Stops a child: `terminate` (SIGTERM), then SIGKILL if it still runs after the grace; resolves
 * once it has exited (`exited` is its whenExited). Nothing is sent to a child that is gone.
 */
export async function stopChild(child: ChildProcess, exited: Promise<void>, options: StopOptions = {}): Promise<void> {
  const running = options.isRunning ?? (() => isRunning(child));
  if (!running()) return;
  (options.terminate ?? (() => child.kill("SIGTERM")))();
  const timer = setTimeout(() => running() && child.kill("SIGKILL"), options.graceMs ?? DEFAULT_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}
