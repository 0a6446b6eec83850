import path from "node:path";
import { createFleetFetch, type FleetFetch } from "./fleet-claim";
import { LastKnownGoodCache, type CachedValue } from "./memory-cache";
import type { SharedAnswers } from "./shared-answers";
import { SnapshotStore, type StoreLog } from "./snapshot-store";

/**
 * How an answer is kept, stamped, shared and written — the one interface the resilient query
 * calls (`read`, `fetch`, `peek`), over four parts:
 * - stamped with the time it was fetched (epoch ms: a degraded answer's `cachedAt`); everywhere,
 *   the newer stamp wins and an older one never overwrites it;
 * - kept in memory (memory-cache.ts: a segmented LRU bounded in bytes);
 * - written behind to disk (snapshot-store.ts), and read back at start, so a restart during an
 *   outage still answers `degraded`; an entry stamped in the future (the clock went back) is not trusted;
 * - shared with the fleet through Redis (shared-answers.ts), one instance querying per input per
 *   reuse window while the others wait for its answer (fleet-claim.ts).
 */

export interface LastKnownGoodOptions {
  /** Bound of the memory cache and of the disk snapshot, in bytes. */
  maxBytes: number;
  /** Where the disk snapshot lives; null keeps none on disk. */
  dataDir: string | null;
  /** Fleet mode: the answers shared through Redis; null or absent works alone. */
  shared?: SharedAnswers | null;
  /** The reuse window: a fleet answer younger than this is used as is. */
  freshForMs: number;
  now?: () => number;
  log?: StoreLog;
}

export interface LastKnownGood {
  /** The newest answer for `key`: this instance's, or the fleet's when mine is not fresh and theirs newer. */
  read<T>(key: string, freshForMs: number): Promise<CachedValue<T> | undefined>;
  /** `own()`'s answer, or (`viaFleet`) one another instance published while this one waited; kept either way. */
  fetch<T>(key: string, own: () => Promise<CachedValue<T>>, options?: { viaFleet?: boolean }): Promise<CachedValue<T>>;
  /** Keeps an answer (in memory, then on disk) unless a newer one is kept. */
  keep(key: string, value: unknown, fetchedAt: number): void;
  /** The kept answer, without counting a use. */
  peek<T>(key: string): CachedValue<T> | undefined;
  /** The memory cache itself, for benchmarks that look inside. */
  readonly cache: LastKnownGoodCache;
  /** Writes what the disk has not seen yet. */
  close(): Promise<void>;
}

export function createLastKnownGood(options: LastKnownGoodOptions): LastKnownGood {
  const now = options.now ?? Date.now;
  const cache = new LastKnownGoodCache({ maxBytes: options.maxBytes });
  const store =
    options.dataDir === null
      ? null
      : new SnapshotStore({ dir: path.resolve(options.dataDir), maxBytes: options.maxBytes, log: options.log });
  // Loaded before any write-behind: what comes from disk is not written back.
  for (const entry of store?.load() ?? [])
    if (entry.fetchedAt <= now()) cache.set(entry.key, entry.value, entry.fetchedAt);
  const fleet: FleetFetch | null = options.shared
    ? createFleetFetch(options.shared, { freshForMs: options.freshForMs, now })
    : null;

  const keep = (key: string, value: unknown, fetchedAt: number) => {
    if (cache.set(key, value, fetchedAt)) store?.record(key, value, fetchedAt);
  };

  return {
    async read<T>(key: string, freshForMs: number) {
      const mine = cache.get<T>(key);
      if (!fleet || (mine && now() - mine.fetchedAt < freshForMs)) return mine;
      const theirs = await fleet.newest<T>(key);
      if (!theirs || (mine && mine.fetchedAt >= theirs.fetchedAt)) return mine;
      keep(key, theirs.value, theirs.fetchedAt);
      return theirs;
    },
    async fetch<T>(key: string, own: () => Promise<CachedValue<T>>, { viaFleet = true } = {}) {
      const fetched = fleet && viaFleet ? await fleet.fetch(key, own) : await own();
      keep(key, fetched.value, fetched.fetchedAt);
      return fetched;
    },
    keep,
    peek: (key) => cache.peek(key),
    cache,
    close: async () => {
      await store?.close();
    },
  };
}
