import path from "node:path";
import { ageOf } from "./age";
import { createFleetFetch, type FleetFetch, type FleetFetchOptions } from "./fleet-claim";
import { LastKnownGoodCache, type CachedValue } from "./memory-cache";
import type { SharedAnswers } from "./shared-answers";
import { SnapshotStore, type StoreLog } from "./snapshot-store";

/**
 * How an answer is kept, ordered, shared and written — the one interface the resilient query
 * calls (`read`, `fetch`, `peek`), over four parts:
 * - ordered by a version, never by a host's clock: in fleet mode Redis hands it out with the
 *   one-query claim; without Redis (or while it is away) this instance's own sequence, always above
 *   every version it has seen. Everywhere the highest version wins; a lower one never overwrites it;
 * - aged on this instance's clock (`fetchedAt`, a degraded answer's `cachedAt`): a fleet answer's
 *   age comes from Redis's clock, so another host's clock never makes data look fresh;
 * - kept in memory (memory-cache.ts: a segmented LRU bounded in measured bytes);
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
  /** The reuse window: a fleet answer younger than this is used as is (unless a call asks for less). */
  freshForMs: number;
  now?: () => number;
  log?: StoreLog;
  /** The fleet claim's timings (tests and simulations). */
  claim?: Omit<FleetFetchOptions, "now">;
  /**
   * Where this instance's own sequence starts (default 0). The composition root starts it from the
   * process's start time in µs, so an instance restarted with nothing on disk still numbers its
   * answers above the ones it gave before (a browser ignores lower versions).
   */
  firstVersion?: number;
}

/** A query's own result, before it is given its version. */
export type OwnAnswer<T> = Omit<CachedValue<T>, "version">;

export interface FetchOptions {
  /** Through the fleet's claim (default), or alone (this instance's breaker is not closed). */
  viaFleet?: boolean;
  /** The caller's reuse window (a live loop's is shorter than the service's). */
  freshForMs?: number;
}

export interface LastKnownGood {
  /** The newest answer for `key`: this instance's, or the fleet's when mine is not fresh and theirs newer. */
  read<T>(key: string, freshForMs: number): Promise<CachedValue<T> | undefined>;
  /** `own()`'s answer, or (`viaFleet`) one another instance published while this one waited; kept either way. */
  fetch<T>(key: string, own: () => Promise<OwnAnswer<T>>, options?: FetchOptions): Promise<CachedValue<T>>;
  /** Keeps an answer (in memory, then on disk) unless a higher version is kept. */
  keep(key: string, answer: CachedValue<unknown>): void;
  /** The kept answer, without counting a use. */
  peek<T>(key: string): CachedValue<T> | undefined;
  /** The memory cache itself, for benchmarks that look inside. */
  readonly cache: LastKnownGoodCache;
  /** Writes what the disk has not seen yet. */
  close(): Promise<void>;
}

/** What this module needs of the disk store; entries written before versions existed load as version 0. */
interface DiskStore {
  load(): Array<{ key: string; value: unknown; fetchedAt: number; version?: number }>;
  record(key: string, value: unknown, fetchedAt: number, version?: number): void;
  close(): Promise<void>;
}

export function createLastKnownGood(options: LastKnownGoodOptions): LastKnownGood {
  const now = options.now ?? Date.now;
  const cache = new LastKnownGoodCache({ maxBytes: options.maxBytes });
  const store: DiskStore | null =
    options.dataDir === null
      ? null
      : // Takes DASHBOARD_DATA_DIR's lock (a second process refuses to start); forgets what the cache evicted.
        SnapshotStore.open({
          dir: path.resolve(options.dataDir),
          maxBytes: options.maxBytes,
          log: options.log,
          retain: (key) => cache.peek(key) !== undefined,
        });
  /** This instance's sequence: above every version it has kept, so its own next answer is the newest. */
  let sequence = options.firstVersion ?? 0;
  // Loaded before any write-behind: what comes from disk is not written back.
  for (const { key, value, fetchedAt, version = 0 } of store?.load() ?? []) {
    if (!Number.isFinite(fetchedAt) || fetchedAt > now() || !Number.isFinite(version)) continue;
    cache.set(key, { value, fetchedAt, version });
    sequence = Math.max(sequence, version);
  }
  const fleet: FleetFetch | null = options.shared ? createFleetFetch(options.shared, { ...options.claim, now }) : null;

  const keep = (key: string, answer: CachedValue<unknown>) => {
    sequence = Math.max(sequence, answer.version);
    if (cache.set(key, answer)) store?.record(key, answer.value, answer.fetchedAt, answer.version);
  };
  const floorOf = (key: string) => cache.peek(key)?.version ?? 0;
  const localVersion = (key: string) => {
    sequence = Math.max(sequence, floorOf(key)) + 1;
    return sequence;
  };
  /** Mine, with a stamp in the future (the clock went back) counted as now from here on. */
  const mineAsOfNow = <T>(key: string): CachedValue<T> | undefined => {
    const mine = cache.get<T>(key);
    if (!mine || mine.fetchedAt <= now()) return mine;
    const restamped = { ...mine, fetchedAt: now() };
    cache.set(key, restamped);
    return restamped;
  };

  return {
    async read<T>(key: string, freshForMs: number) {
      const mine = mineAsOfNow<T>(key);
      if (!fleet || (mine && ageOf(mine.fetchedAt, now()) < freshForMs)) return mine;
      const theirs = await fleet.newest<T>(key);
      if (!theirs || (mine && mine.version >= theirs.version)) return mine;
      keep(key, theirs);
      return theirs;
    },
    async fetch<T>(key: string, own: () => Promise<OwnAnswer<T>>, { viaFleet = true, freshForMs }: FetchOptions = {}) {
      const call = {
        freshForMs: Math.min(freshForMs ?? options.freshForMs, options.freshForMs),
        floor: floorOf(key),
        localVersion: () => localVersion(key),
      };
      let fetched: CachedValue<T>;
      if (fleet && viaFleet) fetched = await fleet.fetch(key, own, call);
      else {
        const version = call.localVersion();
        fetched = { ...(await own()), version };
      }
      keep(key, fetched);
      return newestAfterFetch(key, fetched, { cache, fleet, keep });
    },
    keep,
    peek: (key) => cache.peek(key),
    cache,
    close: async () => {
      await store?.close();
    },
  };
}

/**
 * What a fetch answers with: its own answer, unless a newer one was kept while its query ran (a lapsed
 * claim, a query made while Redis was down) — never backwards — and then the fleet's newest when that
 * is newer still, not whatever this instance happened to keep meanwhile.
 */
async function newestAfterFetch<T>(
  key: string,
  fetched: CachedValue<T>,
  parts: { cache: LastKnownGoodCache; fleet: FleetFetch | null; keep: (key: string, answer: CachedValue<T>) => void },
): Promise<CachedValue<T>> {
  const newest = parts.cache.peek<T>(key);
  if (!newest || newest.version <= fetched.version) return fetched;
  const theirs = parts.fleet ? await parts.fleet.newest<T>(key).catch(() => undefined) : undefined;
  if (!theirs || theirs.version <= newest.version) return newest;
  parts.keep(key, theirs);
  return theirs;
}
