/**
 * Last-known-good answers, keyed by procedure and input, bounded (least recently used goes first),
 * each with the time it was fetched: `degraded` answers carry that time as `cachedAt`.
 */

export interface CachedValue<T> {
  value: T;
  fetchedAt: number;
}

export class LastKnownGoodCache {
  private readonly entries = new Map<string, CachedValue<unknown>>();

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error("maxEntries must be a positive integer");
  }

  get<T>(key: string): CachedValue<T> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Map keeps insertion order: re-inserting marks the entry as most recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry as CachedValue<T>;
  }

  set<T>(key: string, value: T, fetchedAt: number): void {
    const current = this.entries.get(key);
    // A slow attempt that finishes after a newer one must not overwrite fresher data.
    if (current && current.fetchedAt > fetchedAt) return;
    this.entries.delete(key);
    this.entries.set(key, { value, fetchedAt });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

/** A stable key for an input: object keys sorted, so {a,b} and {b,a} share an entry. */
export function cacheKey(operation: string, input: unknown): string {
  return `${operation}:${stableStringify(input)}`;
}

function stableStringify(value: unknown): string {
  if (value === undefined) return "";
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(",")}}`;
}
