import { randomUUID } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";

/**
 * One process per DASHBOARD_DATA_DIR: two processes writing one store corrupt it, so the second
 * refuses to start with one clear line naming the directory and the holder.
 *
 * The lock is a file created with an exclusive open (`wx`: the OS lets exactly one process create
 * it) holding the holder's pid, host and a random instance id — two containers may both be pid 1.
 * A holder that is gone leaves its file behind (a crash, SIGKILL, a container stopped): the file is
 * taken over when its holder is on this host and not alive (or not a node process: the pid was
 * reused), when its pid is ours but its instance is not (this container's previous life), or when
 * its heartbeat (the file's mtime, touched every few seconds) has stopped — the only sign a holder
 * on another host (container) gives.
 */

export const LOCK_FILE = "dashboard.lock";

const holderSchema = z.object({
  pid: z.number().int(),
  host: z.string(),
  instance: z.string(),
  startedAt: z.number(),
});
export type LockHolder = z.infer<typeof holderSchema>;

export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: LockHolder | null,
  ) {
    const since = holder ? new Date(holder.startedAt).toISOString() : "";
    const who = holder
      ? `pid ${holder.pid} on ${holder.host}, instance ${holder.instance}, since ${since}`
      : "a process that is still writing its lock";
    super(
      `DASHBOARD_DATA_DIR ${dir} is in use by another process (${who}): each instance needs its own data ` +
        `directory; if that process is gone, remove ${path.join(dir, LOCK_FILE)}`,
    );
    this.name = "DataDirLockedError";
  }
}

export interface DataDirLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Removes the lock file if it is still ours; stops the heartbeat. */
  release(): void;
}

export interface LockOptions {
  now?: () => number;
  pid?: number;
  host?: string;
  /** Whether a pid on this host runs a node process; tests hand in their own. */
  isAlive?: (pid: number) => boolean;
  heartbeatMs?: number;
  /** A lock whose heartbeat is older than this is taken over, wherever its holder runs. */
  staleAfterMs?: number;
}

/** Instances holding a lock in this process: the same pid is not enough to call a lock ours. */
const heldHere = new Set<string>();

/** Takes the directory's lock (creating the directory); throws DataDirLockedError when another process holds it. */
export function lockDataDir(dir: string, options: LockOptions = {}): DataDirLock {
  const now = options.now ?? Date.now;
  const me: LockHolder = {
    pid: options.pid ?? process.pid,
    host: options.host ?? os.hostname(),
    instance: randomUUID(),
    startedAt: now(),
  };
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  let last: Found | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(file, me)) return holdLock(file, me, options.heartbeatMs ?? 5_000);
    last = readHolder(file);
    if (last === null) continue; // released meanwhile: try again
    if (!isStale(last, me, { ...options, now })) break;
    takeOver(file, last);
  }
  throw new DataDirLockedError(dir, last?.holder ?? null);
}

interface Found {
  holder: LockHolder | null;
  mtimeMs: number;
}

function tryCreate(file: string, me: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(file, "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(me));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  heldHere.add(me.instance);
  return true;
}

/** The lock's holder (null when its content is not a holder), or null when there is no lock file. */
function readHolder(file: string): Found | null {
  try {
    const mtimeMs = statSync(file).mtimeMs;
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      json = undefined;
    }
    const parsed = holderSchema.safeParse(json);
    return { holder: parsed.success ? parsed.data : null, mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

function isStale(found: Found, me: LockHolder, options: LockOptions & { now: () => number }): boolean {
  const age = options.now() - found.mtimeMs;
  if (age > (options.staleAfterMs ?? 20_000)) return true;
  const { holder } = found;
  // Created and written in one go: an unreadable lock more than a moment old is debris.
  if (holder === null) return age > 2_000;
  if (holder.host !== me.host) return false;
  if (holder.pid === me.pid) return !heldHere.has(holder.instance);
  return !(options.isAlive ?? isNodeProcessAlive)(holder.pid);
}

/** Moves the stale lock aside; if what moved is not the lock judged stale (it changed meanwhile), puts it back. */
function takeOver(file: string, stale: Found): void {
  const aside = `${file}.stale-${randomUUID()}`;
  try {
    renameSync(file, aside);
  } catch {
    return; // someone else moved it: the next attempt sees what is there now
  }
  const moved = readHolder(aside);
  if (moved && moved.holder?.instance !== stale.holder?.instance) {
    try {
      linkSync(aside, file); // fails if a third process created one meanwhile: that one holds it
    } catch {}
  }
  try {
    unlinkSync(aside);
  } catch {}
}

function holdLock(file: string, holder: LockHolder, heartbeatMs: number): DataDirLock {
  const heartbeat = setInterval(() => {
    try {
      const at = new Date();
      utimesSync(file, at, at);
    } catch {}
  }, heartbeatMs);
  heartbeat.unref();
  return {
    file,
    holder,
    release() {
      clearInterval(heartbeat);
      heldHere.delete(holder.instance);
      try {
        if (readHolder(file)?.holder?.instance === holder.instance) unlinkSync(file);
      } catch {}
    },
  };
}

/** Alive and running node (a reused pid runs something else); unknown counts as alive. */
function isNodeProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  try {
    return /node/.test(path.basename(readlinkSync(`/proc/${pid}/exe`)));
  } catch {
    return true;
  }
}
