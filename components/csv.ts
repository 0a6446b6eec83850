/**
 * What a panel shows, as CSV (RFC 4180): a header row, then one line per row. Text that a
 * spreadsheet would run as a formula (=, +, -, @ first) is quoted with a leading apostrophe:
 * strategy names come from outside the desk.
 */

export type CsvCell = string | number | null | undefined;

function cell(value: CsvCell): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) || safe !== value ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(header: readonly string[], rows: ReadonlyArray<readonly CsvCell[]>): string {
  return `${[header, ...rows].map((row) => row.map(cell).join(",")).join("\r\n")}\r\n`;
}

/** "sessions-2026-11-28T2115Z.csv": what it is and when it was taken, safe as a file name. */
export function csvFileName(what: string, at: number): string {
  const stamp = new Date(at).toISOString().slice(0, 16).replace(/:/g, "");
  return `${what.replace(/[^A-Za-z0-9_-]+/g, "-")}-${stamp}Z.csv`;
}
