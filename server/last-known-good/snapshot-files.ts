import { randomUUID } from "node:crypto";
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";

/**
 * The disk store's file operations: read a file (absent is not an error), append and sync, replace a
 * file whole (a uniquely named temporary file, synced, renamed over it: a crash leaves the old file
 * or the new one, never half of one, and two writers never share a temporary file), move a bad file
 * aside for a post-mortem.
 */

export type ReadResult = { state: "absent" } | { state: "read"; text: string; size: number; mtimeMs: number };

export function readIfPresent(file: string): ReadResult {
  try {
    const text = readFileSync(file, "utf8");
    const { size, mtimeMs } = statSync(file);
    return { state: "read", text, size, mtimeMs };
  } catch (error) {
    if (errorCode(error) === "ENOENT") return { state: "absent" };
    throw error;
  }
}

/** Appends `text` and syncs its data once. */
export async function appendSynced(file: string, text: string): Promise<void> {
  const handle = await open(file, "a");
  try {
    await handle.writeFile(text, "utf8");
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** `mode`: the new file's permissions (0o600 for a file only this user may read). */
export async function replaceAtomically(file: string, text: string, opts: { mode?: number } = {}): Promise<void> {
  const temporary = temporaryName(file);
  try {
    const handle = await open(temporary, "wx", opts.mode);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** The same, synchronously: at start-up, before the first request, nothing waits on it. */
export function replaceAtomicallySync(file: string, text: string): void {
  const temporary = temporaryName(file);
  try {
    const fd = openSync(temporary, "wx");
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Renames a file that cannot be used, so the next start does not trip on it; the fields for the log line. */
export function moveAside(file: string): Record<string, unknown> {
  const corruptFile = `${file}.corrupt-${Date.now()}`;
  try {
    renameSync(file, corruptFile);
    return { movedTo: corruptFile };
  } catch (moveError) {
    return { moveError: describeError(moveError) };
  }
}

/** Names a temporary file of `file` has while it is written (a crash may leave one behind). */
export function isTemporaryName(name: string): boolean {
  return /\.tmp-[0-9a-f-]{36}$/.test(name);
}

function temporaryName(file: string): string {
  return `${file}.tmp-${randomUUID()}`;
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Never empty: a log line that says nothing helps nobody. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.trim() || (error instanceof Error ? error.name : "unknown error");
}
