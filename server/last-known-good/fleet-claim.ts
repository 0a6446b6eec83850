import { setTimeout as sleep } from "node:timers/promises";
import type { CachedValue } from "./memory-cache";
import type { SharedAnswers } from "./shared-answers";

/**
 * One QuestDB query per input per reuse window for the whole fleet. An instance that finds a fresh
 * shared answer uses it; otherwise one instance (holding a short claim) queries QuestDB and
 * publishes what it got, and the others wait a moment for that answer before asking QuestDB
 * themselves. Without Redis every call falls through to the instance's own query.
 */

export interface FleetFetchOptions {
  /** An answer younger than this is used as is (the reuse window). */
  freshForMs: number;
  /** How long an instance without the claim waits for the claimant's answer. */
  waitMs?: number;
  pollMs?: number;
  now?: () => number;
}

export interface FleetFetch {
  /** The fleet's newest answer for `key` (undefined without Redis). */
  newest<T>(key: string): Promise<CachedValue<T> | undefined>;
  /** `own()`'s answer, or a fresh one another instance published while this one waited its turn. */
  fetch<T>(key: string, own: () => Promise<CachedValue<T>>): Promise<CachedValue<T>>;
}

export function createFleetFetch(shared: SharedAnswers, options: FleetFetchOptions): FleetFetch {
  const now = options.now ?? Date.now;
  const waitMs = options.waitMs ?? options.freshForMs;
  const pollMs = options.pollMs ?? 25;
  const isFresh = (answer: CachedValue<unknown> | undefined): boolean =>
    answer !== undefined && now() - answer.fetchedAt < options.freshForMs;

  /**
   * A fresh answer the claimant published, or undefined once this instance holds the claim itself:
   * a claimant that gave up (QuestDB failed it) publishes nothing, and its released claim ends the wait.
   */
  async function awaitTheirs<T>(key: string): Promise<CachedValue<T> | undefined> {
    const until = now() + waitMs;
    while (now() < until) {
      await sleep(pollMs);
      const theirs = await shared.get<T>(key);
      if (isFresh(theirs)) return theirs;
      if (await shared.claim(key, waitMs)) return undefined;
    }
    return undefined;
  }

  return {
    newest: (key) => shared.get(key),
    async fetch<T>(key: string, own: () => Promise<CachedValue<T>>) {
      if (!(await shared.claim(key, waitMs))) {
        const theirs = await awaitTheirs<T>(key);
        if (theirs) return theirs;
      } else {
        // Another instance may have published between this instance's look and its claim.
        const theirs = await shared.get<T>(key);
        if (isFresh(theirs)) {
          await shared.release(key);
          return theirs!;
        }
      }
      try {
        const mine = await own();
        await shared.put(key, mine.value, mine.fetchedAt);
        return mine;
      } finally {
        await shared.release(key);
      }
    },
  };
}
