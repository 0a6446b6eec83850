/** Small statistics helpers for the benchmarks and the chaos soak (sorted copies, nearest-rank percentiles). */

export interface Spread {
  min: number;
  median: number;
  max: number;
}

function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** Nearest-rank percentile (p in 0..100) of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error("percentile of an empty list");
  const s = sorted(values);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1]!;
}

/** The median (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of an empty list");
  const s = sorted(values);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error("spread of an empty list");
  const s = sorted(values);
  return { min: s[0]!, median: median(s), max: s[s.length - 1]! };
}

/** Rounds to `digits` significant decimals for reports (keeps integers as they are). */
export function round(value: number, decimals = 2): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

export { setTimeout as sleep } from "node:timers/promises";

/** 1234.5 → "1,235"; 12.345 → "12.3"; 0.01234 → "0.0123" (about three significant digits). */
export function fmt(value: number): string {
  const abs = Math.abs(value);
  const decimals = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : abs >= 0.1 ? 3 : 4;
  return value.toLocaleString("en-US", { minimumFractionDigits: 0, maximumFractionDigits: decimals });
}

export function fmtMs(value: number): string {
  return `${fmt(value)} ms`;
}
