import { mkdir } from "node:fs/promises";
import path from "node:path";
import { DataDirLockedError, lockDataDir, type DataDirLock } from "./data-dir-lock";
import {
  appendSynced,
  describeError,
  errorCode,
  moveAside,
  readIfPresent,
  replaceAtomically,
  replaceAtomicallySync,
} from "./snapshot-files";
import {
  encodeForget,
  encodeHeader,
  encodePut,
  encodeTouch,
  parseLegacySnapshot,
  parseLog,
  type LogHeader,
  type SnapshotEntry,
} from "./snapshot-format";

export type { SnapshotEntry } from "./snapshot-format";

/**
 * The last-known-good answers on local disk, so an app restarted during an outage still answers
 * `degraded` with the original `cachedAt` instead of `error`.
 *
 * Writes follow the change, not the size: an append-only log (snapshot-format.ts) gets one line per
 * entry changed since the last write — a few bytes when only the stamp changed — with one sync per
 * write. When the log grows to a few times the live entries it is compacted: rewritten whole through a
 * temporary file and a rename. Writes happen behind the request path: `record` only notes the
 * answer, and a timer writes everything noted at most once per `writeDelayMs`.
 *
 * Bounded by `maxBytes` of serialized entries (the newest that fit are kept), and by `retain`: an
 * entry the memory cache no longer holds is forgotten at the next write.
 */

export const SNAPSHOT_FILE = "last-known-good.ndjson";
/** The single-file snapshot of earlier versions: read (entry by entry) and merged, never written. */
export const LEGACY_SNAPSHOT_FILE = "last-known-good.json";

/** Compact when the log is this many times the live entries (and at least `MIN_COMPACT_BYTES`). */
const COMPACT_FACTOR = 3;
const MIN_COMPACT_BYTES = 256 * 1024;

export type StoreLog = (event: string, fields: Record<string, unknown>) => void;

export interface SnapshotStoreOptions {
  dir: string;
  /** Largest size of the live entries, in bytes of serialized lines: the newest entries that fit are kept. */
  maxBytes: number;
  /** Longest a recorded answer waits before it is written (writes are coalesced). */
  writeDelayMs?: number;
  /** Whether an entry is still wanted (held by the memory cache); an entry it is not is forgotten. */
  retain?: (key: string) => boolean;
  log?: StoreLog;
}

interface HeldEntry extends SnapshotEntry {
  /** The value's JSON, made once per recorded value (undefined until measured). */
  json?: string;
  /** The value's JSON as last written: while `json` is the same, a touch line suffices. */
  writtenJson?: string;
  /** Bytes of the entry's put line: what the entry costs in a compacted log. */
  bytes: number;
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

/** Newest means the highest version, then the latest stamp. */
const isNewer = (a: Pick<SnapshotEntry, "version" | "fetchedAt">, b: Pick<SnapshotEntry, "version" | "fetchedAt">) =>
  a.version !== b.version ? a.version > b.version : a.fetchedAt > b.fetchedAt;

export class SnapshotStore {
  readonly file: string;
  readonly legacyFile: string;
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly writeDelayMs: number;
  private readonly retain: (key: string) => boolean;
  private readonly log: StoreLog;
  private readonly lock: DataDirLock | null;
  private readonly entries = new Map<string, HeldEntry>();
  /** Keys recorded or forgotten since the last write. */
  private readonly changed = new Set<string>();
  private lifecycle: StoreState = { state: "in-step" };
  /** The next write rewrites the log whole: no log yet, or an append failed (the log may lack lines). */
  private compactNext = true;
  private logBytes = 0;
  private dirReady = false;
  private merged: LogHeader["merged"];
  /** The last write failed: a run of failures is reported once, and its end once. */
  private failing = false;
  /** Writes run one after another: each waits for the one before it. */
  private writing: Promise<void> = Promise.resolve();
  private completedWrites = 0;

  /** The store of `dir`, holding its lock: throws DataDirLockedError when another process has it. */
  static open(options: SnapshotStoreOptions): SnapshotStore {
    let lock: DataDirLock | null = null;
    try {
      lock = lockDataDir(options.dir);
    } catch (error) {
      if (error instanceof DataDirLockedError) throw error;
      // An unusable directory costs the saved answers (each write reports it), never the start.
      options.log?.("store.lock_failed", { dir: options.dir, error: describeError(error) });
    }
    return new SnapshotStore(options, lock);
  }

  constructor(options: SnapshotStoreOptions, lock: DataDirLock | null = null) {
    if (!Number.isFinite(options.maxBytes) || options.maxBytes < 1)
      throw new Error("maxBytes must be a positive number");
    this.dir = options.dir;
    this.file = path.join(options.dir, SNAPSHOT_FILE);
    this.legacyFile = path.join(options.dir, LEGACY_SNAPSHOT_FILE);
    this.maxBytes = options.maxBytes;
    this.writeDelayMs = options.writeDelayMs ?? 1000;
    this.retain = options.retain ?? (() => true);
    this.log = options.log ?? (() => undefined);
    this.lock = lock;
  }

  /** How many writes (appends or compactions) this store has made. */
  get writes(): number {
    return this.completedWrites;
  }

  /**
   * The answers saved by an earlier run, read once at start-up: the log, then a single-file snapshot
   * of an earlier version (newer wins). A bad line or entry is skipped and reported once; the good
   * ones are kept. A file that cannot be read at all is reported once and moved aside.
   */
  load(): SnapshotEntry[] {
    const fromLog = this.loadLog();
    if (fromLog === "dir-unusable") return [];
    const mergedLegacy = this.loadLegacy();
    this.bound();
    if (fromLog.damaged || mergedLegacy || this.logBytes > this.compactAt()) this.compactNow();
    return [...this.entries.values()].map(({ key, value, fetchedAt, version }) => ({ key, value, fetchedAt, version }));
  }

  /** Notes a newer answer; cheap, never touches the disk itself. An older one is ignored. */
  record(key: string, value: unknown, fetchedAt: number, version = 0): void {
    if (this.lifecycle.state === "closed" || value === undefined) return;
    const held = this.entries.get(key);
    if (held && isNewer(held, { version, fetchedAt })) return;
    this.entries.set(key, { key, value, fetchedAt, version, writtenJson: held?.writtenJson, bytes: held?.bytes ?? 0 });
    this.noteChange(key);
  }

  /** The entry is no longer kept (the memory cache evicted it): removed at the next write. */
  forget(key: string): void {
    if (this.lifecycle.state === "closed" || !this.entries.delete(key)) return;
    this.noteChange(key);
  }

  /** Writes now if anything was recorded since the last write. Never rejects. */
  flush(): Promise<void> {
    if (this.lifecycle.state === "behind") {
      clearTimeout(this.lifecycle.timer);
      this.lifecycle = { state: "behind", timer: undefined };
    }
    this.writing = this.writing.then(() => this.writeIfBehind());
    return this.writing;
  }

  /** Writes what is pending, stops (later records are ignored) and lets the directory go. */
  async close(): Promise<void> {
    if (this.lifecycle.state !== "closed") {
      if (this.lifecycle.state === "behind") clearTimeout(this.lifecycle.timer);
      this.lifecycle = { state: "closed", behind: this.lifecycle.state === "behind" };
    }
    await this.flush();
    this.lock?.release();
  }

  private noteChange(key: string): void {
    this.changed.add(key);
    // Not reset by later records: under steady traffic the log is still written every delay.
    const scheduled = this.lifecycle.state === "behind" ? this.lifecycle.timer : undefined;
    const timer = scheduled ?? setTimeout(() => void this.flush(), this.writeDelayMs);
    timer.unref();
    this.lifecycle = { state: "behind", timer };
  }

  private async writeIfBehind(): Promise<void> {
    const before = this.lifecycle;
    if (before.state === "in-step" || (before.state === "closed" && !before.behind)) return;
    // Everything recorded so far goes into this write: a write still scheduled is not needed.
    if (before.state === "behind") clearTimeout(before.timer);
    this.lifecycle = before.state === "closed" ? { state: "closed", behind: false } : { state: "in-step" };
    try {
      const lines = this.changedLines();
      if (this.compactNext || this.logBytes + Buffer.byteLength(lines) > this.compactAt()) await this.compact();
      else if (lines !== "") await this.append(lines);
      this.completedWrites += 1;
      if (this.failing) this.log("store.write_recovered", { file: this.file });
      this.failing = false;
    } catch (error) {
      // Still behind: the next record (or flush) rewrites the log whole. Reported once per run of failures.
      this.compactNext = true;
      const now = this.lifecycle;
      if (now.state === "in-step") this.lifecycle = { state: "behind", timer: undefined };
      if (now.state === "closed") this.lifecycle = { state: "closed", behind: true };
      if (!this.failing) this.log("store.write_failed", { file: this.file, error: describeError(error) });
      this.failing = true;
    }
  }

  /** The lines for what changed since the last write; entries over the bounds are forgotten here. */
  private changedLines(): string {
    for (const key of this.changed) {
      const entry = this.entries.get(key);
      if (entry && !this.measure(entry)) this.entries.delete(key);
    }
    for (const key of this.entries.keys()) {
      if (this.retain(key)) continue;
      this.entries.delete(key);
      this.changed.add(key);
    }
    this.bound();
    let lines = "";
    for (const key of this.changed) {
      const entry = this.entries.get(key);
      if (!entry) lines += encodeForget(key);
      else if (entry.json === entry.writtenJson) lines += encodeTouch(entry);
      else lines += encodePut(entry, entry.json as string);
      if (entry) entry.writtenJson = entry.json;
    }
    this.changed.clear();
    return lines;
  }

  /** Makes the entry's JSON and size; false (and one log line) for a value JSON cannot hold. */
  private measure(entry: HeldEntry): boolean {
    if (entry.json === undefined) {
      try {
        entry.json = JSON.stringify(entry.value);
      } catch (error) {
        this.log("store.entry_unserialisable", { file: this.file, key: entry.key, error: describeError(error) });
        return false;
      }
      entry.bytes = Buffer.byteLength(encodePut(entry, entry.json));
    }
    return true;
  }

  /** Keeps the newest entries that fit in `maxBytes` (with the log's header); the others are forgotten. */
  private bound(): void {
    let room = this.maxBytes - Buffer.byteLength(this.header());
    if (this.liveBytes() <= room) return;
    const newestFirst = [...this.entries.values()].sort((a, b) => (isNewer(a, b) ? -1 : isNewer(b, a) ? 1 : 0));
    for (const entry of newestFirst) {
      if (entry.bytes <= room) {
        room -= entry.bytes;
        continue;
      }
      this.entries.delete(entry.key);
      this.changed.add(entry.key);
    }
  }

  private liveBytes(): number {
    let bytes = 0;
    for (const entry of this.entries.values()) bytes += entry.bytes;
    return bytes;
  }

  private compactAt(): number {
    return Math.max(COMPACT_FACTOR * this.liveBytes(), MIN_COMPACT_BYTES);
  }

  private header(): string {
    return encodeHeader({ merged: this.merged });
  }

  /** The whole log anew: the header and one put line per entry. */
  private compacted(): string {
    let text = this.header();
    for (const entry of this.entries.values()) {
      if (entry.json !== undefined) text += encodePut(entry, entry.json);
      entry.writtenJson = entry.json;
    }
    return text;
  }

  private async compact(): Promise<void> {
    const text = this.compacted();
    // Created once, before the first write: a directory removed later is reported, not recreated.
    if (!this.dirReady) await mkdir(this.dir, { recursive: true });
    this.dirReady = true;
    await replaceAtomically(this.file, text);
    this.logBytes = Buffer.byteLength(text);
    this.compactNext = false;
  }

  private async append(lines: string): Promise<void> {
    await appendSynced(this.file, lines);
    this.logBytes += Buffer.byteLength(lines);
  }

  /** At start-up, before anything waits on the store: a clean log now, or at the first write. */
  private compactNow(): void {
    try {
      const text = this.compacted();
      replaceAtomicallySync(this.file, text);
      this.logBytes = Buffer.byteLength(text);
      this.compactNext = false;
    } catch (error) {
      this.compactNext = true;
      this.failing = true;
      this.log("store.write_failed", { file: this.file, error: describeError(error) });
    }
  }

  /** Replays the log into the entries; "dir-unusable" when the data directory itself cannot be read. */
  private loadLog(): { damaged: boolean } | "dir-unusable" {
    let read: ReturnType<typeof readIfPresent>;
    try {
      read = readIfPresent(this.file);
    } catch (error) {
      this.reportUnreadable(this.file, error);
      return errorCode(error) === "ENOTDIR" ? "dir-unusable" : { damaged: false };
    }
    if (read.state === "absent") return { damaged: false };
    const parsed = parseLog(read.text);
    for (const line of parsed.items) {
      if (line.op === "forget") this.entries.delete(line.key);
      else if (line.op === "touch") this.touchLoaded(line.key, line.fetchedAt, line.version ?? 0);
      else this.putLoaded({ key: line.key, value: line.value, fetchedAt: line.fetchedAt, version: line.version ?? 0 });
    }
    this.logBytes = read.size;
    this.compactNext = false;
    this.merged = parsed.header?.merged;
    if (parsed.skipped === 0) return { damaged: false };
    // The good lines are kept (rewritten at once); the damaged log is kept aside for a post-mortem.
    const aside = moveAside(this.file);
    this.log("store.entries_skipped", {
      file: this.file,
      skipped: parsed.skipped,
      problem: parsed.firstProblem,
      ...aside,
    });
    return { damaged: true };
  }

  /** Merges a single-file snapshot of an earlier version (newer wins) unless this log merged it already. */
  private loadLegacy(): boolean {
    let read: ReturnType<typeof readIfPresent>;
    try {
      read = readIfPresent(this.legacyFile);
    } catch (error) {
      this.reportUnreadable(this.legacyFile, error);
      return false;
    }
    if (read.state === "absent") return false;
    if (this.merged?.size === read.size && this.merged.mtimeMs === read.mtimeMs) return false;
    let parsed: ReturnType<typeof parseLegacySnapshot>;
    try {
      parsed = parseLegacySnapshot(read.text);
    } catch (error) {
      this.reportUnreadable(this.legacyFile, error);
      return false;
    }
    for (const entry of parsed.items) {
      const held = this.entries.get(entry.key);
      if (!held || isNewer(entry, held)) this.putLoaded(entry);
    }
    if (parsed.skipped > 0) {
      this.log("store.entries_skipped", {
        file: this.legacyFile,
        skipped: parsed.skipped,
        problem: parsed.firstProblem,
      });
    }
    // Left in place (an earlier version rolled back to still finds it); the header notes it merged.
    this.merged = { size: read.size, mtimeMs: read.mtimeMs };
    return true;
  }

  private putLoaded(entry: SnapshotEntry): void {
    const json = JSON.stringify(entry.value);
    this.entries.set(entry.key, {
      ...entry,
      json,
      writtenJson: json,
      bytes: Buffer.byteLength(encodePut(entry, json)),
    });
  }

  private touchLoaded(key: string, fetchedAt: number, version: number): void {
    const held = this.entries.get(key);
    if (held) Object.assign(held, { fetchedAt, version });
  }

  /** Reports a file that cannot be used at all and moves it aside, so the next start does not trip on it. */
  private reportUnreadable(file: string, error: unknown): void {
    this.log("store.unreadable", { file, error: describeError(error), ...moveAside(file) });
  }
}
