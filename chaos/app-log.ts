import { UNHANDLED_ERROR_LINE } from "../harness/app-process";

/** What the app's own log says about the soak: crashes, 5xx, unexpected errors, breaker openings. */

export interface LogScan {
  lines: number;
  /** Epoch ms of each questdb.breaker_opened line. */
  breakerOpenedAt: number[];
  events: Record<string, number>;
  unhandled: string[];
  http5xx: number;
  unexpectedErrors: number;
  emptyFields: number;
}

export function scanLog(text: string): LogScan {
  const scan: LogScan = {
    lines: 0,
    breakerOpenedAt: [],
    events: {},
    unhandled: [],
    http5xx: 0,
    unexpectedErrors: 0,
    emptyFields: 0,
  };
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    scan.lines++;
    if (UNHANDLED_ERROR_LINE.test(line)) scan.unhandled.push(line.slice(0, 500));
    if (!line.startsWith("{")) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const event = typeof entry.event === "string" ? entry.event : "(none)";
    scan.events[event] = (scan.events[event] ?? 0) + 1;
    if (event === "http.request" && typeof entry.status === "number" && entry.status >= 500) scan.http5xx++;
    if (event === "trpc.unexpected_error") scan.unexpectedErrors++;
    if (event === "questdb.breaker_opened" && typeof entry.time === "string")
      scan.breakerOpenedAt.push(Date.parse(entry.time));
    for (const field of ["error", "message"]) {
      if (field in entry && String(entry[field]).trim() === "") scan.emptyFields++;
    }
  }
  return scan;
}
