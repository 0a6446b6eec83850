import { readFileSync, renameSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";

/**
 * The last-known-good answers on local disk, so an app restarted during an outage still answers
 * `degraded` with the original `cachedAt` instead of `error`.
 *
 * One JSON snapshot file, replaced whole: written to a temporary file, fsynced, then renamed over
 * the old one, so a crash at any moment leaves either the old snapshot or the new one, never half
 * of one. Writes happen behind the request path: `record` only notes the answer, and a timer
 * writes everything noted at most once per `writeDelayMs`.
 */

export const SNAPSHOT_FILE = "last-known-good.json";
export const SNAPSHOT_VERSION = 1;

export interface SnapshotEntry {
  key: string;
  value: unknown;
  /** Epoch ms, as the cache keeps it. */
  fetchedAt: number;
}

export type StoreLog = (event: string, fields: Record<string, unknown>) => void;

export interface SnapshotStoreOptions {
  dir: string;
  /** Largest snapshot file, in bytes of JSON: the newest entries that fit are kept. */
  maxBytes: number;
  /** Longest a recorded answer waits before it is written (writes are coalesced). */
  writeDelayMs?: number;
  log?: StoreLog;
}

interface HeldEntry extends SnapshotEntry {
  /** The entry as written, kept so an unchanged entry is not serialised again at every write. */
  json?: string;
  bytes?: number;
}

/**
 * The file against what was recorded: in step; behind (a write is due — at `timer`, or, after a
 * failed write, at the next record or flush); or closed (records ignored; `behind` says whether
 * the last flush still has something to write).
 */
type StoreState =
  | { state: "in-step" }
  | { state: "behind"; timer: NodeJS.Timeout | undefined }
  | { state: "closed"; behind: boolean };

export class SnapshotStore {
  readonly file: string;
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly writeDelayMs: number;
  private readonly log: StoreLog;
  private readonly entries = new Map<string, HeldEntry>();
  private lifecycle: StoreState = { state: "in-step" };
  /** The directory exists (created once, before the first write). */
  private dirReady = false;
  /** The last write failed: a run of failures is reported once, and its end once. */
  private failing = false;
  /** Writes run one after another: each waits for the one before it. */
  private writing: Promise<void> = Promise.resolve();
  private completedWrites = 0;

  constructor(options: SnapshotStoreOptions) {
    if (!Number.isFinite(options.maxBytes) || options.maxBytes < 1)
      throw new Error("maxBytes must be a positive number");
    this.dir = options.dir;
    this.file = path.join(options.dir, SNAPSHOT_FILE);
    this.maxBytes = options.maxBytes;
    this.writeDelayMs = options.writeDelayMs ?? 1000;
    this.log = options.log ?? (() => undefined);
  }

  /** How many snapshots this store has written. */
  get writes(): number {
    return this.completedWrites;
  }

  /**
   * The answers saved by an earlier run, read once at start-up. A snapshot that cannot be used is
   * reported once, moved aside so it is not read again, and treated as empty: a bad file costs the
   * saved answers, never the start.
   */
  load(): SnapshotEntry[] {
    let loaded: SnapshotEntry[];
    try {
      loaded = parseSnapshot(readFileSync(this.file, "utf8"));
    } catch (error) {
      if (errorCode(error) !== "ENOENT") this.setAside(error);
      return [];
    }
    for (const entry of loaded) {
      const held = this.entries.get(entry.key);
      if (!held || held.fetchedAt <= entry.fetchedAt) this.entries.set(entry.key, { ...entry });
    }
    return [...this.entries.values()].map(({ key, value, fetchedAt }) => ({ key, value, fetchedAt }));
  }

  /** Notes a newer answer; cheap, never touches the disk itself. An older `fetchedAt` is ignored. */
  record(key: string, value: unknown, fetchedAt: number): void {
    if (this.lifecycle.state === "closed" || value === undefined) return;
    const held = this.entries.get(key);
    if (held && held.fetchedAt > fetchedAt) return;
    this.entries.set(key, { key, value, fetchedAt });
    // Not reset by later records: under steady traffic the snapshot is still written every delay.
    const scheduled = this.lifecycle.state === "behind" ? this.lifecycle.timer : undefined;
    const timer = scheduled ?? setTimeout(() => void this.flush(), this.writeDelayMs);
    timer.unref();
    this.lifecycle = { state: "behind", timer };
  }

  /** Writes now if anything was recorded since the last write. Never rejects. */
  flush(): Promise<void> {
    if (this.lifecycle.state === "behind") {
      clearTimeout(this.lifecycle.timer);
      this.lifecycle = { state: "behind", timer: undefined };
    }
    this.writing = this.writing.then(() => this.writeIfDirty());
    return this.writing;
  }

  /** Writes what is pending and stops: later records are ignored. */
  async close(): Promise<void> {
    if (this.lifecycle.state !== "closed") {
      if (this.lifecycle.state === "behind") clearTimeout(this.lifecycle.timer);
      this.lifecycle = { state: "closed", behind: this.lifecycle.state === "behind" };
    }
    await this.flush();
  }

  private async writeIfDirty(): Promise<void> {
    const before = this.lifecycle;
    if (before.state === "in-step" || (before.state === "closed" && !before.behind)) return;
    // Everything recorded so far goes into this write: a write still scheduled is not needed.
    if (before.state === "behind") clearTimeout(before.timer);
    this.lifecycle = before.state === "closed" ? { state: "closed", behind: false } : { state: "in-step" };
    try {
      await this.writeAtomically(this.serialise());
      this.completedWrites += 1;
      if (this.failing) this.log("store.write_recovered", { file: this.file });
      this.failing = false;
    } catch (error) {
      // Still behind: the next record (or flush) tries again. Reported once per run of failures.
      const now = this.lifecycle;
      if (now.state === "in-step") this.lifecycle = { state: "behind", timer: undefined };
      if (now.state === "closed") this.lifecycle = { state: "closed", behind: true };
      if (!this.failing) this.log("store.write_failed", { file: this.file, error: describeError(error) });
      this.failing = true;
    }
  }

  /** The snapshot's text: the newest entries whose JSON fits in `maxBytes`; the rest are forgotten. */
  private serialise(): string {
    const head = `{"version":${SNAPSHOT_VERSION},"savedAt":${Date.now()},"entries":[`;
    const tail = "]}";
    let room = this.maxBytes - Buffer.byteLength(head) - tail.length;
    const kept: string[] = [];
    const newestFirst = [...this.entries.values()].sort((a, b) => b.fetchedAt - a.fetchedAt);
    for (const entry of newestFirst) {
      const bytes = this.measure(entry);
      const cost = bytes + (kept.length > 0 ? 1 : 0);
      if (bytes < 0 || cost > room) {
        this.entries.delete(entry.key);
        continue;
      }
      room -= cost;
      kept.push(entry.json as string);
    }
    return head + kept.join(",") + tail;
  }

  /** The entry's JSON size in bytes, or -1 (and one log line) for a value JSON cannot hold. */
  private measure(entry: HeldEntry): number {
    if (entry.json === undefined) {
      try {
        entry.json = JSON.stringify({ key: entry.key, fetchedAt: entry.fetchedAt, value: entry.value });
      } catch (error) {
        this.log("store.entry_unserialisable", { file: this.file, key: entry.key, error: describeError(error) });
        return -1;
      }
      entry.bytes = Buffer.byteLength(entry.json);
    }
    return entry.bytes ?? -1;
  }

  private async writeAtomically(text: string): Promise<void> {
    if (!this.dirReady) await mkdir(this.dir, { recursive: true });
    this.dirReady = true;
    const temporary = `${this.file}.tmp-${process.pid}`;
    try {
      const handle = await open(temporary, "w");
      try {
        await handle.writeFile(text, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, this.file);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      throw error;
    }
  }

  /** Reports an unusable snapshot and renames it, so the next start does not trip on it again. */
  private setAside(error: unknown): void {
    const corruptFile = `${this.file}.corrupt-${Date.now()}`;
    const fields: Record<string, unknown> = { file: this.file, error: describeError(error) };
    try {
      renameSync(this.file, corruptFile);
      fields.movedTo = corruptFile;
    } catch (moveError) {
      fields.moveError = describeError(moveError);
    }
    this.log("store.unreadable", fields);
  }
}

/** The entries of a snapshot's text; throws, saying what is wrong, for anything else. */
export function parseSnapshot(text: string): SnapshotEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`not valid JSON: ${describeError(error)}`);
  }
  if (!isRecord(parsed)) throw new Error("not a snapshot: expected a JSON object");
  if (parsed.version !== SNAPSHOT_VERSION) {
    throw new Error(`unsupported snapshot version ${JSON.stringify(parsed.version)}, expected ${SNAPSHOT_VERSION}`);
  }
  if (!Array.isArray(parsed.entries)) throw new Error("not a snapshot: entries is not an array");
  return parsed.entries.map((entry: unknown, index) => {
    if (!isRecord(entry)) throw new Error(`entry ${index} is not an object`);
    const { key, fetchedAt, value } = entry;
    if (typeof key !== "string") throw new Error(`entry ${index}: key is not a string`);
    if (typeof fetchedAt !== "number" || !Number.isFinite(fetchedAt))
      throw new Error(`entry ${index}: fetchedAt is not a number`);
    if (!("value" in entry)) throw new Error(`entry ${index}: value is missing`);
    return { key, value, fetchedAt };
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function errorCode(error: unknown): string | undefined {
  return isRecord(error) && typeof error.code === "string" ? error.code : undefined;
}

/** Never empty: a log line that says nothing helps nobody. */
function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.trim() || (error instanceof Error ? error.name : "unknown error");
}
