import fs from "node:fs";

/**
 * What the operating system says about a process (Linux /proc): its resident memory and the TCP
 * connections it holds — counted from the kernel's socket table, not from the pool's own idea.
 */

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
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // "pid (comm) state ppid ..." — comm may contain spaces and parentheses.
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(rest[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // gone meanwhile
    }
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
