import { spawnSync } from "node:child_process";
import fs from "node:fs";

/**
 * What the operating system says about a process (Linux /proc): whether it lives, is frozen or is
 * a QuestDB, its children, its resident memory and the TCP connections it holds — counted from the
 * kernel's socket table, not from the pool's own idea.
 */

/** The fields of /proc/<pid>/stat after "pid (comm)": [state, ppid, …]; null when it is gone. */
function statFields(pid: number | string): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm may contain spaces and parentheses: the fields start after the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** Whether a process with this pid exists (signal 0). */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether the pid is a QuestDB ServerMain java process (Linux: /proc; elsewhere `ps`). */
export function isQuestdbPid(pid: number): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes("io.questdb.ServerMain");
  } catch {
    const result = spawnSync("ps", ["-o", "command=", "-p", String(pid)], { encoding: "utf8" });
    return result.status === 0 && result.stdout.includes("io.questdb.ServerMain");
  }
}

/** Whether the process is stopped by a signal (SIGSTOP, i.e. frozen); Linux only, else false. */
export function isPidStopped(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state === "T" || state === "t";
}

/** VmRSS of a process in kB, or null when it is gone. */
export function rssKb(pid: number): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** The pid and all its descendants (scans /proc/<n>/stat for parent ids). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    return [root];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    if (!fields) continue; // gone meanwhile
    const ppid = Number(fields[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** The inodes of every socket the processes have open (/proc/<pid>/fd → "socket:[inode]"). */
export function socketInodes(pids: readonly number[]): Set<string> {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        const match = /^socket:\[(\d+)\]$/.exec(target);
        if (match) inodes.add(match[1]!);
      } catch {
        // closed meanwhile
      }
    }
  }
  return inodes;
}

export interface ConnectionCount {
  /** ESTABLISHED sockets to the port owned by the processes. */
  established: number;
  /** Sockets to the port owned by the processes, in any state. */
  any: number;
}

const TCP_TABLES = ["/proc/net/tcp", "/proc/net/tcp6"];

/** Counts the processes' TCP sockets whose remote port is `remotePort`. */
export function connectionsTo(remotePort: number, pids: readonly number[]): ConnectionCount {
  const inodes = socketInodes(pids);
  const count: ConnectionCount = { established: 0, any: 0 };
  if (inodes.size === 0) return count;
  for (const table of TCP_TABLES) {
    let text = "";
    try {
      text = fs.readFileSync(table, "utf8");
    } catch {
      continue;
    }
    const lines = text.split("\n");
    for (let i = 1; i < lines.length; i++) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
      const fields = lines[i]!.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const remote = fields[2]!;
      const port = parseInt(remote.slice(remote.lastIndexOf(":") + 1), 16);
      if (port !== remotePort || !inodes.has(fields[9]!)) continue;
      count.any++;
      if (fields[3] === "01") count.established++;
    }
  }
  return count;
}
