import { mkdir, readFile, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { isTemporaryName, replaceAtomically } from "@/server/last-known-good/snapshot-files";
import { SESSION_ID_PATTERN, parseSessionJson, type SessionRecord } from "./session-record";
import type { SessionStore } from "./session-store";

/**
 * Sessions of a single instance (no REDIS_URL): one small JSON file per session under
 * `<DASHBOARD_DATA_DIR>/sessions/`, readable by this user only (it holds the provider's tokens),
 * written whole (a temporary file renamed over it: a crash leaves the old record or the new one).
 * A file that does not parse counts as no session and is removed; expired ones are swept.
 */

type Log = (event: string, fields: Record<string, unknown>) => void;

/** How often files of sessions that ended without a sign-out are removed. */
const SWEEP_EVERY_MS = 60 * 60_000;

export function createFileSessionStore(dataDir: string, opts: { now?: () => number; log?: Log } = {}): SessionStore {
  const dir = path.join(dataDir, "sessions");
  const now = opts.now ?? Date.now;
  const log = opts.log ?? (() => undefined);
  const ready = mkdir(dir, { recursive: true, mode: 0o700 }).then(() => undefined);
  const fileOf = (sid: string) => path.join(dir, `${sid}.json`);

  async function write(record: SessionRecord): Promise<boolean> {
    try {
      await ready;
      await replaceAtomically(fileOf(record.sid), JSON.stringify(record), { mode: 0o600 });
      return true;
    } catch (error) {
      log("auth.session_store_failed", { op: "write", error: String(error) });
      return false;
    }
  }

  async function read(sid: string): Promise<SessionRecord | null | undefined> {
    if (!SESSION_ID_PATTERN.test(sid)) return null;
    let text: string;
    try {
      text = await readFile(fileOf(sid), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      log("auth.session_store_failed", { op: "read", error: String(error) });
      return undefined;
    }
    const record = parseSessionJson(text, sid);
    if (record === null) log("auth.session_record_invalid", { file: fileOf(sid) });
    if (record === null || record.expiresAt <= now()) {
      await rm(fileOf(sid), { force: true });
      return null;
    }
    return record;
  }

  const sweep = setInterval(() => void sweepExpired(dir, now()), SWEEP_EVERY_MS);
  sweep.unref();
  void ready.then(() => sweepExpired(dir, now())).catch(() => undefined);

  return {
    read,
    create: write,
    async update(record) {
      return (await exists(fileOf(record.sid))) && write(record);
    },
    async remove(sid) {
      if (!SESSION_ID_PATTERN.test(sid)) return true;
      await rm(fileOf(sid), { force: true });
      return true;
    },
    // One process: the caller's own single flight is the only claim needed.
    claimRecheck: async () => true,
  };
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Removes the files of sessions past their end (and temporary files a crash left behind). */
async function sweepExpired(dir: string, nowMs: number): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const file = path.join(dir, name);
    if (isTemporaryName(name)) {
      const { mtimeMs } = await stat(file).catch(() => ({ mtimeMs: nowMs }));
      if (nowMs - mtimeMs > 60_000) await rm(file, { force: true });
      continue;
    }
    const sid = name.replace(/\.json$/, "");
    const record = parseSessionJson(await readFile(file, "utf8").catch(() => ""), sid);
    if (record === null || record.expiresAt <= nowMs) await rm(file, { force: true });
  }
}
