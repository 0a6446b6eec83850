import { setTimeout as sleep } from "node:timers/promises";
import type { CachedValue } from "./memory-cache";
import type { Claim, SharedAnswer, SharedAnswers } from "./shared-answers";

/**
 * One QuestDB query per input per reuse window for the whole fleet. An instance that finds a
 * shared answer younger than the caller's window (by Redis's clock) uses it; otherwise one
 * instance takes the claim — with the version its answer will carry — renews it while its query
 * runs, and publishes; the others wait for that answer as long as the claim is held. A claimant
 * whose claim lapsed (a stalled process) cannot let its older rows win: its version is lower.
 * Without Redis every call falls through to the instance's own query, with a local version.
 */

export interface FleetFetchOptions {
  /** How long a claim lasts unless renewed; it is renewed every third of it while the query runs. */
  claimTtlMs?: number;
  /** Longest an instance waits on another's claim before it queries itself (a safety net). */
  maxWaitMs?: number;
  pollMs?: number;
  now?: () => number;
  /** How waiting is done (simulations hand in their own time). */
  sleep?: (ms: number) => Promise<void>;
  /** A clock that only goes forward, for how long this instance has waited. */
  monotonic?: () => number;
}

/** What a fetch needs besides the query: the caller's reuse window and this instance's versions. */
export interface FleetFetchCall {
  /** A shared answer younger than this (by Redis's clock) is used as is. */
  freshForMs: number;
  /** The highest version this instance has seen for the key: the fleet's next one is above it. */
  floor: number;
  /** A version from this instance's own sequence, for a query made without Redis. */
  localVersion: () => number;
}

export interface FleetFetch {
  /** The fleet's newest answer for `key`, stamped on this instance's clock (undefined without Redis). */
  newest<T>(key: string): Promise<CachedValue<T> | undefined>;
  /** `own()`'s answer with its version, or a fresh one another instance published while this one waited. */
  fetch<T>(
    key: string,
    own: () => Promise<Omit<CachedValue<T>, "version">>,
    call: FleetFetchCall,
  ): Promise<CachedValue<T>>;
}

export const FLEET_CLAIM_DEFAULTS = {
  claimTtlMs: 1_000,
  maxWaitMs: 30_000,
  pollMs: 25,
  // Unref'd: a renewal or a wait never keeps a stopping process alive by itself.
  sleep: (ms: number) => sleep(ms, undefined, { ref: false }),
  monotonic: () => performance.now(),
} as const;

export function createFleetFetch(shared: SharedAnswers, options: FleetFetchOptions = {}): FleetFetch {
  const now = options.now ?? Date.now;
  const settings = { ...FLEET_CLAIM_DEFAULTS, ...withoutUndefined(options) };
  const { claimTtlMs, maxWaitMs, pollMs, monotonic } = settings;
  const localized = <T>(answer: SharedAnswer<T>): CachedValue<T> => ({
    value: answer.value,
    version: answer.version,
    fetchedAt: onThisClock(answer, now()),
  });
  /** Younger than the caller's window, and not older than what this instance has (its `floor`). */
  const isFresh = <T>(answer: SharedAnswer<T> | undefined, call: FleetFetchCall): answer is SharedAnswer<T> =>
    answer !== undefined && answer.ageMs < call.freshForMs && answer.version >= call.floor;

  /** A fresh answer the claimant published, or the claim once it is no longer held by another. */
  async function awaitTheirs<T>(
    key: string,
    call: FleetFetchCall,
  ): Promise<{ answer: CachedValue<T> } | { claim: Claim }> {
    const started = monotonic();
    while (monotonic() - started < maxWaitMs) {
      await settings.sleep(pollMs);
      const theirs = await shared.get<T>(key);
      if (isFresh(theirs, call)) return { answer: localized(theirs) };
      const claim = await shared.claim(key, claimTtlMs, call.floor);
      if (claim.state !== "held") return { claim };
    }
    return { claim: { state: "unavailable" } };
  }

  /** The claimant's query, its claim renewed while it runs, its answer published under its version. */
  async function queryClaimed<T>(key: string, version: number, own: () => Promise<Omit<CachedValue<T>, "version">>) {
    const renewal = renewWhileRunning(() => shared.renew(key, version, claimTtlMs), claimTtlMs / 3, settings.sleep);
    try {
      const mine = { ...(await own()), version };
      if (await shared.put(key, mine.value, version, mine.fetchedAt)) return mine;
      // Refused: a later claimant published while this query ran (its claim lapsed). Theirs is newer.
      const theirs = await shared.get<T>(key);
      return theirs && theirs.version > version ? localized(theirs) : mine;
    } finally {
      renewal.stop();
      await shared.release(key, version);
    }
  }

  return {
    async newest<T>(key: string) {
      const theirs = await shared.get<T>(key);
      return theirs && localized(theirs);
    },
    async fetch<T>(key: string, own: () => Promise<Omit<CachedValue<T>, "version">>, call: FleetFetchCall) {
      let claim = await shared.claim(key, claimTtlMs, call.floor);
      if (claim.state === "held") {
        const waited = await awaitTheirs<T>(key, call);
        if ("answer" in waited) return waited.answer;
        claim = waited.claim;
      }
      if (claim.state !== "granted") {
        // Taken before the query: versions follow the order queries start in.
        const version = call.localVersion();
        return { ...(await own()), version };
      }
      // Another instance may have published between this instance's look and its claim.
      const theirs = await shared.get<T>(key);
      if (isFresh(theirs, call)) {
        await shared.release(key, claim.version);
        return localized(theirs);
      }
      return queryClaimed(key, claim.version, own);
    },
  };
}

/** How far the publisher's stamp may differ from the age before this instance's clock is trusted instead. */
export const SAME_CLOCK_TOLERANCE_MS = 100;

/**
 * The answer's time on this instance's clock: from its age by Redis's clock — or the publisher's
 * own stamp where the two agree (synchronised clocks), so every instance shows the same "as of".
 */
export function onThisClock(answer: SharedAnswer<unknown>, now: number): number {
  const byAge = now - answer.ageMs;
  return Math.abs(answer.fetchedAt - byAge) <= SAME_CLOCK_TOLERANCE_MS && answer.fetchedAt <= now
    ? answer.fetchedAt
    : byAge;
}

/** Renews every `everyMs` until stopped; a renewal Redis missed (a blip) is tried again at the next one. */
function renewWhileRunning(renew: () => Promise<boolean>, everyMs: number, wait: (ms: number) => Promise<void>) {
  let running = true;
  void (async () => {
    while (running) {
      await wait(Math.max(10, everyMs));
      if (running) await renew();
    }
  })();
  return {
    stop() {
      running = false;
    },
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
