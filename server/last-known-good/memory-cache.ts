/**
 * Last-known-good answers, keyed by procedure and input, each with the time it was fetched
 * (`degraded` answers carry it as `cachedAt`) and its version (which of two answers is newer),
 * bounded in bytes.
 *
 * Why two segments (a segmented LRU): the answers worth keeping are the ones viewers ask for
 * again and again — the dashboard's own panels poll every few seconds. An entry starts on
 * probation; asked for again, it moves to the protected segment (most of the budget). A flood of
 * distinct inputs, each asked once, only churns probation, so it cannot push the panels' answers
 * out: an outage still finds them. Protected entries that fall out of use go back to probation.
 */

export interface CachedValue<T> {
  value: T;
  /** Epoch ms on this instance's clock: the age of the answer, and its "as of" time. */
  fetchedAt: number;
  /** Orders answers for one key, whatever the clocks say: the highest is the newest. */
  version: number;
}

interface Entry extends CachedValue<unknown> {
  bytes: number;
  segment: "probation" | "protected";
}

export interface CacheOptions {
  maxBytes: number;
  /** Share of the budget for entries asked for more than once. */
  protectedShare?: number;
}

/** Per-entry bookkeeping, so even empty answers count. */
const ENTRY_OVERHEAD_BYTES = 64;

/**
 * The answer's serialized size (UTF-8 bytes of its JSON), measured whole: rows differ in size, so
 * one sample row can be hundreds of times off. The disk store is bounded by the same measure.
 */
export function measureBytes(value: unknown): number {
  try {
    return ENTRY_OVERHEAD_BYTES + Buffer.byteLength(JSON.stringify(value) ?? "", "utf8");
  } catch {
    return ENTRY_OVERHEAD_BYTES; // what JSON cannot hold (BigInt, cycles) is never written or shared either
  }
}

export class LastKnownGoodCache {
  // Map keeps insertion order: the first entry of each is the least recently used.
  private readonly probation = new Map<string, Entry>();
  private readonly protectedEntries = new Map<string, Entry>();
  private probationBytes = 0;
  private protectedBytes = 0;
  readonly maxBytes: number;
  private readonly maxProtectedBytes: number;

  constructor(options: CacheOptions) {
    if (!Number.isFinite(options.maxBytes) || options.maxBytes < 1)
      throw new Error("maxBytes must be a positive number");
    this.maxBytes = options.maxBytes;
    this.maxProtectedBytes = Math.floor(options.maxBytes * (options.protectedShare ?? 0.8));
  }

  /** A viewer asks for `key`: counts as a use (a second use protects the entry). */
  get<T>(key: string): CachedValue<T> | undefined {
    const entry = this.protectedEntries.get(key) ?? this.probation.get(key);
    if (!entry) return undefined;
    this.remove(key, entry);
    this.insert(key, { ...entry, segment: "protected" });
    return { value: entry.value as T, fetchedAt: entry.fetchedAt, version: entry.version };
  }

  /** Reads without counting a use (the layer's own second look within one call). */
  peek<T>(key: string): CachedValue<T> | undefined {
    const entry = this.protectedEntries.get(key) ?? this.probation.get(key);
    return entry ? { value: entry.value as T, fetchedAt: entry.fetchedAt, version: entry.version } : undefined;
  }

  /** Keeps the answer unless a higher version is kept already or it is too large; true when kept. */
  set<T>(key: string, answer: CachedValue<T>, bytes = measureBytes(answer.value)): boolean {
    const current = this.protectedEntries.get(key) ?? this.probation.get(key);
    // A slow attempt that finishes after a newer one must not overwrite fresher data.
    if (current && current.version > answer.version) return false;
    if (current) this.remove(key, current);
    // One answer larger than what probation may hold would evict everything else: not kept.
    if (bytes > this.maxBytes - this.maxProtectedBytes && !current) return false;
    const { value, fetchedAt, version } = answer;
    this.insert(key, { value, fetchedAt, version, bytes, segment: current?.segment ?? "probation" });
    return true;
  }

  get size(): number {
    return this.probation.size + this.protectedEntries.size;
  }

  get bytes(): number {
    return this.probationBytes + this.protectedBytes;
  }

  private insert(key: string, entry: Entry): void {
    if (entry.segment === "protected") {
      this.protectedEntries.set(key, entry);
      this.protectedBytes += entry.bytes;
      // Protected entries out of use make room by going back to probation.
      while (this.protectedBytes > this.maxProtectedBytes && this.protectedEntries.size > 1) {
        const [oldKey, old] = this.protectedEntries.entries().next().value as [string, Entry];
        this.remove(oldKey, old);
        this.insert(oldKey, { ...old, segment: "probation" });
      }
    } else {
      this.probation.set(key, entry);
      this.probationBytes += entry.bytes;
    }
    while (this.bytes > this.maxBytes && this.probation.size > 0) {
      const [oldKey, old] = this.probation.entries().next().value as [string, Entry];
      this.remove(oldKey, old);
    }
  }

  private remove(key: string, entry: Entry): void {
    if (entry.segment === "protected") {
      this.protectedEntries.delete(key);
      this.protectedBytes -= entry.bytes;
    } else {
      this.probation.delete(key);
      this.probationBytes -= entry.bytes;
    }
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
