import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/**
 * A private copy of the repository in a temp dir, for mutants to be written into: the real files
 * are never touched, so an edit made in the working tree meanwhile is neither clobbered nor
 * mutated. node_modules is a symlink to the real one.
 */
export interface Snapshot {
  dir: string;
  remove(): void;
}

const PREFIX = "named-mutants-";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Snapshots left by a run that was killed before it could clean up (SIGKILL, a crash). */
function removeAbandonedSnapshots(): void {
  for (const name of readdirSync(tmpdir())) {
    const owner = Number(/^named-mutants-(\d+)-/.exec(name)?.[1]);
    if (owner && !isAlive(owner)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

/**
 * Copies the working tree's files (tracked and untracked, not ignored). With `serverAt`, server/
 * comes from that commit instead: the code under test as committed, while server/ has edits in
 * progress.
 */
export function createSnapshot(repo: string, serverAt?: string): Snapshot {
  removeAbandonedSnapshots();
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: repo,
    encoding: "utf8",
  });
  for (const file of listed.split("\0")) {
    if (file === "" || (serverAt !== undefined && file.startsWith("server/"))) continue;
    const from = join(repo, file);
    if (!existsSync(from) || !lstatSync(from).isFile()) continue; // deleted in the working tree, or a submodule
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(from, join(dir, file));
  }
  if (serverAt !== undefined) {
    const archive = execFileSync("git", ["archive", serverAt, "server"], { cwd: repo, maxBuffer: 256 * 1024 * 1024 });
    execFileSync("tar", ["-x", "-C", dir], { input: archive });
  }
  symlinkSync(join(repo, "node_modules"), join(dir, "node_modules"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
