import { z } from "zod";

/**
 * What the disk store writes and reads, validated line by line, so one bad entry costs that entry,
 * never the others.
 *
 * The log (`last-known-good.ndjson`, format 2): a header line, then one JSON line per change —
 * `put` (an answer), `touch` (the same answer fetched again: only its stamp, so an unchanged answer
 * costs a few bytes), `forget` (the entry is no longer kept). Replaying the lines in order gives the
 * entries. A line this version does not know (a newer format after a rollback) is skipped, not fatal.
 *
 * The single-file snapshot (`last-known-good.json`, format 1, written by earlier versions) is read
 * entry by entry, whatever its `version` says, for an upgrade (or a rollback and upgrade) during an
 * outage.
 */

export const LOG_FORMAT = 2;

export interface SnapshotEntry {
  key: string;
  value: unknown;
  /** Epoch ms, as the cache keeps it. */
  fetchedAt: number;
  /** Orders answers for a key independently of clocks; 0 for entries written without one. */
  version: number;
}

const stamp = { key: z.string(), fetchedAt: z.number().finite(), version: z.number().finite().optional() };
// z.unknown() also accepts a missing property: "value" must be present, null included.
const hasValue = (line: object) => "value" in line;

const putLine = z.object({ op: z.literal("put"), ...stamp, value: z.unknown() }).refine(hasValue, "value is missing");
const touchLine = z.object({ op: z.literal("touch"), ...stamp });
const forgetLine = z.object({ op: z.literal("forget"), key: z.string() });
const logLine = z.discriminatedUnion("op", [putLine, touchLine, forgetLine]);
export type LogLine = z.infer<typeof logLine>;

const headerLine = z.object({
  format: z.literal("last-known-good-log"),
  version: z.number(),
  /** The single-file snapshot already merged into this log, so it is not read again unless it changed. */
  merged: z.object({ size: z.number(), mtimeMs: z.number() }).optional(),
});
export type LogHeader = z.infer<typeof headerLine>;

const legacyEntry = z.object(stamp).extend({ value: z.unknown() }).refine(hasValue, "value is missing");
const legacySnapshot = z.object({ entries: z.array(z.unknown()) });

/** What a read found: the good lines, and the bad ones counted with the first reason. */
export interface Parsed<T> {
  items: T[];
  skipped: number;
  firstProblem?: string;
}

export function encodeHeader(header: Omit<LogHeader, "format" | "version">): string {
  return `${JSON.stringify({ format: "last-known-good-log", version: LOG_FORMAT, ...header })}\n`;
}

/** A put line around the value's JSON (already made, to measure the entry). */
export function encodePut(entry: Omit<SnapshotEntry, "value">, valueJson: string): string {
  const stampJson = JSON.stringify({ op: "put", key: entry.key, fetchedAt: entry.fetchedAt, version: entry.version });
  return `${stampJson.slice(0, -1)},"value":${valueJson}}\n`;
}

export function encodeTouch(entry: Pick<SnapshotEntry, "key" | "fetchedAt" | "version">): string {
  return `${JSON.stringify({ op: "touch", key: entry.key, fetchedAt: entry.fetchedAt, version: entry.version })}\n`;
}

export function encodeForget(key: string): string {
  return `${JSON.stringify({ op: "forget", key })}\n`;
}

/** The log's header and lines; a line that is not JSON or not a known line (a torn last one too) is skipped. */
export function parseLog(text: string): Parsed<LogLine> & { header?: LogHeader } {
  const result: Parsed<LogLine> & { header?: LogHeader } = { items: [], skipped: 0 };
  const lines = text.split("\n");
  // The text after the last newline is a line only if complete: a crash mid-append leaves it torn.
  const torn = lines.pop() ?? "";
  if (torn !== "") skip(result, "the last line is incomplete");
  for (const [index, line] of lines.entries()) {
    const json = parseJson(line);
    const header = index === 0 ? headerLine.safeParse(json) : undefined;
    if (header?.success) {
      result.header = header.data;
      continue;
    }
    const parsed = json === undefined ? undefined : logLine.safeParse(json);
    if (parsed?.success) result.items.push(parsed.data);
    else skip(result, `line ${index + 1}: ${parsed ? describeIssue(parsed.error) : "not JSON"}`);
  }
  return result;
}

/**
 * The entries of a single-file snapshot (format 1, or any other `version`), entry by entry;
 * throws only when the file is not such a snapshot at all (not JSON, no list of entries).
 */
export function parseLegacySnapshot(text: string): Parsed<SnapshotEntry> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const snapshot = legacySnapshot.safeParse(json);
  if (!snapshot.success) throw new Error("not a snapshot: expected an object with a list of entries");
  const result: Parsed<SnapshotEntry> = { items: [], skipped: 0 };
  snapshot.data.entries.forEach((raw, index) => {
    const entry = legacyEntry.safeParse(raw);
    if (entry.success) result.items.push({ ...entry.data, version: entry.data.version ?? 0 });
    else skip(result, `entry ${index}: ${describeIssue(entry.error)}`);
  });
  return result;
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function skip(result: Parsed<unknown>, problem: string): void {
  result.skipped += 1;
  result.firstProblem ??= problem;
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid";
  return issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message;
}
