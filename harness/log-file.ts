import fs from "node:fs";

/** Reading a child's log file by byte offsets: what a process wrote since a point, or its tail. */

/** The file's size in bytes; 0 while it does not exist. */
export function logSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** The text between two byte offsets (`to` is clamped to the file's size); "" when unreadable. */
export function readLog(file: string, from: number, to = Number.POSITIVE_INFINITY): string {
  try {
    const start = Math.max(0, from);
    const length = Math.min(to, fs.statSync(file).size) - start;
    if (length <= 0) return "";
    const fd = fs.openSync(file, "r");
    try {
      const buffer = Buffer.alloc(length);
      const read = fs.readSync(fd, buffer, 0, length, start);
      return buffer.subarray(0, read).toString("utf8");
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return "";
  }
}

/** The last line of a log excerpt that is not blank, trimmed; undefined when there is none. */
export function lastLine(text: string): string | undefined {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .pop();
}
