import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DataDirLockedError, LOCK_FILE, lockDataDir } from "./data-dir-lock";

let dir: string;
const lockFile = () => path.join(dir, LOCK_FILE);
/** A lock file as another process left it; `ageMs` old. */
function heldBy(holder: { pid: number; host: string; instance?: string }, ageMs = 0): void {
  writeFileSync(lockFile(), JSON.stringify({ instance: "their-instance", startedAt: 1, ...holder }));
  const at = new Date(Date.now() - ageMs);
  utimesSync(lockFile(), at, at);
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "data-dir-lock-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("the data directory's lock", () => {
  it("holds the pid, host and a random instance id, and is removed on release", () => {
    const lock = lockDataDir(dir, { host: "h" });
    expect(JSON.parse(readFileSync(lockFile(), "utf8"))).toMatchObject({
      pid: process.pid,
      host: "h",
      instance: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    lock.release();
    expect(existsSync(lockFile())).toBe(false);
  });

  it("refuses a second holder in the same process, naming the directory and the holder", () => {
    const lock = lockDataDir(dir);
    try {
      expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
      expect(() => lockDataDir(dir)).toThrow(
        `DASHBOARD_DATA_DIR ${dir} is in use by another process (pid ${process.pid}`,
      );
    } finally {
      lock.release();
    }
  });

  it("refuses while a live node process on this host holds it", () => {
    heldBy({ pid: 4242, host: "h" });
    expect(() => lockDataDir(dir, { host: "h", isAlive: () => true })).toThrow(/pid 4242 on h/);
  });

  it("takes over from a holder on this host that is gone (or a pid reused by something else)", () => {
    heldBy({ pid: 4242, host: "h" });
    const lock = lockDataDir(dir, { host: "h", isAlive: (pid) => pid !== 4242 });
    expect(JSON.parse(readFileSync(lockFile(), "utf8")).instance).toBe(lock.holder.instance);
    lock.release();
  });

  it("takes over from its own pid's previous life (a container restarted: pid 1 again)", () => {
    heldBy({ pid: 1, host: "h" });
    const lock = lockDataDir(dir, { host: "h", pid: 1, isAlive: () => true });
    lock.release();
  });

  it("refuses a holder on another host (another container) while its heartbeat is fresh, takes over once it stopped", () => {
    heldBy({ pid: 1, host: "other" }, 1_000);
    expect(() => lockDataDir(dir, { host: "h", pid: 1 })).toThrow(/pid 1 on other/);
    heldBy({ pid: 1, host: "other" }, 60_000);
    lockDataDir(dir, { host: "h", pid: 1 }).release();
  });

  it("keeps its heartbeat while held", async () => {
    const lock = lockDataDir(dir, { heartbeatMs: 20 });
    const at = new Date(Date.now() - 60_000);
    utimesSync(lockFile(), at, at);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    lock.release();
  });

  it("a second process on the same directory exits non-zero with one line naming the directory and the holder", () => {
    const lock = lockDataDir(dir);
    try {
      // The start-up's handling: the one line, then exit 1 (server/start.ts does the same).
      const script = path.join(dir, "second-process.ts");
      writeFileSync(
        script,
        `import { DataDirLockedError, lockDataDir } from ${JSON.stringify(path.join(__dirname, "data-dir-lock"))};
        try { lockDataDir(${JSON.stringify(dir)}); } catch (e) {
          if (e instanceof DataDirLockedError) { console.error(e.message); process.exit(1); } throw e;
        }`,
      );
      const child = spawnSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8" });
      expect(child.status).toBe(1);
      const lines = child.stderr.trim().split("\n");
      expect(lines).toEqual([
        expect.stringContaining(`DASHBOARD_DATA_DIR ${dir} is in use by another process (pid ${process.pid}`),
      ]);
    } finally {
      lock.release();
    }
  });
});
