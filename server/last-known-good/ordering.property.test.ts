import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ageOf } from "./age";
import { SAME_CLOCK_TOLERANCE_MS } from "./fleet-claim";
import { createLastKnownGood, type LastKnownGood } from "./last-known-good";
import { inMemorySharedAnswers, type InMemorySharedAnswers } from "./testing/in-memory-shared-answers";

/**
 * A deterministic simulation of last-known-good's ordering: instances with clocks of their own
 * (up to ±5 min off), one shared store with Redis's semantics, QuestDB whose data grows, under
 * random schedules of writes, slow queries finishing out of order, claims that lapse, instances
 * cut off from Redis, Redis down, restarts and viewers arriving late. Time is the simulation's:
 * waits and claim renewals advance only when the world does.
 *
 * Invariants: what an instance answers never goes backwards in version; no answer is served as
 * fresh when it is older than the reuse window (by the authority's clock) while newer data exists;
 * one query per input per window — a fleet query never starts while a fresh answer at least as new
 * as the instance's own is shared.
 */

const WINDOW_MS = 1_000;
const KEY = "sessions.active:{}";
const FIVE_MINUTES = 5 * 60_000;
const STEP_MS = 100;

interface Row {
  /** QuestDB's data at the query's start: higher is newer. */
  data: number;
  /** Which query got it. */
  query: number;
}

interface Instance {
  id: string;
  kept: LastKnownGood;
  now: () => number;
  /** The highest version this incarnation has answered with. */
  highest: number;
  querying: boolean;
}

type Command =
  | { kind: "advance"; ms: number }
  | { kind: "write" }
  | { kind: "serve"; at: number; durationMs: number }
  | { kind: "cut"; at: number }
  | { kind: "redis" }
  | { kind: "lapse" }
  | { kind: "restart"; at: number; skewMs: number };

class World {
  t = 1_700_000_000_000;
  data = 0;
  readonly redis: InMemorySharedAnswers = inMemorySharedAnswers(() => this.t);
  /** When each query finished, on the true clock. */
  readonly finishedAt = new Map<number, number>();
  queries = 0;
  /** Fleet queries under way; `excused` once their claim lapsed (a stall) or their process was restarted. */
  private fleetQueries: Array<{ id: string; excused: boolean }> = [];
  readonly violations: string[] = [];
  private sleepers: Array<() => void> = [];
  private pending: Array<{ finishAt: number; finish: () => void }> = [];
  private generation = 0;
  instances: Instance[] = [];

  constructor(skews: number[]) {
    this.instances = skews.map((skew, i) => this.start(i, skew));
  }

  readonly sleep = () => new Promise<void>((resolve) => this.sleepers.push(resolve));

  start(index: number, skewMs: number): Instance {
    const id = `i${index}-${this.generation++}`;
    const now = () => this.t + skewMs;
    const kept = createLastKnownGood({
      maxBytes: 1_000_000,
      dataDir: null,
      freshForMs: WINDOW_MS,
      shared: this.redis.forInstance(id),
      now,
      claim: { sleep: this.sleep, monotonic: () => this.t, pollMs: 25, claimTtlMs: 1_000, maxWaitMs: 1e12 },
    });
    return { id, kept, now, highest: 0, querying: false };
  }

  /** Lets every sleeper and promise move on a few rounds (renewals and waiters re-sleep). */
  async settle(): Promise<void> {
    for (let round = 0; round < 6; round++) {
      for (const wake of this.sleepers.splice(0)) wake();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Time goes on in steps of at most a tenth of a claim's TTL: renewals keep up, as their timers would. */
  async advance(ms: number): Promise<void> {
    for (let left = ms; left > 0; left -= STEP_MS) await this.step(Math.min(STEP_MS, left));
  }

  private async step(ms: number): Promise<void> {
    const until = this.t + ms;
    this.pending.sort((a, b) => a.finishAt - b.finishAt);
    while ((this.pending[0]?.finishAt ?? Number.POSITIVE_INFINITY) <= until) {
      const next = this.pending.shift()!;
      this.t = Math.max(this.t, next.finishAt);
      next.finish();
      await this.settle();
    }
    this.t = until;
    await this.settle();
  }

  /** A query of QuestDB by `instance`, answering after `durationMs`; checks the one-query rule at its start. */
  own(instance: Instance, durationMs: number) {
    return () => {
      const fleetQuery = this.checkQueryStart(instance);
      const row = { data: this.data, query: this.queries++ };
      return new Promise<{ value: Row; fetchedAt: number }>((resolve) => {
        this.pending.push({
          finishAt: this.t + durationMs,
          finish: () => {
            this.finishedAt.set(row.query, this.t);
            if (fleetQuery) this.fleetQueries = this.fleetQueries.filter((q) => q !== fleetQuery);
            resolve({ value: row, fetchedAt: instance.now() });
          },
        });
      });
    };
  }

  private checkQueryStart(instance: Instance) {
    const holder = this.redis.holder(KEY);
    if (!holder?.startsWith(`${instance.id}:`)) return undefined; // alone (no Redis): not the fleet's query
    const stored = this.redis.answers.get(KEY);
    const floor = instance.kept.peek(KEY)?.version ?? 0;
    if (stored && this.t - stored.publishedAt < WINDOW_MS && stored.version >= floor)
      this.violations.push(`${instance.id} queried at ${this.t} though a fresh shared answer existed`);
    if (this.fleetQueries.some((q) => !q.excused))
      this.violations.push(`${instance.id} queried at ${this.t} while another instance's claimed query ran`);
    const query = { id: instance.id, excused: false };
    this.fleetQueries.push(query);
    return query;
  }

  private trueAge(row: Row): number {
    return this.t - (this.finishedAt.get(row.query) ?? this.t);
  }

  /** Reused without a query: truly younger than the window (plus the clock tolerance), whatever the clocks. */
  private checkReused(instance: Instance, row: Row): void {
    if (this.trueAge(row) >= WINDOW_MS + SAME_CLOCK_TOLERANCE_MS)
      this.violations.push(`${instance.id} reused an answer ${this.trueAge(row)} ms old as fresh at ${this.t}`);
  }

  /** A flight's answer, served as `ok`: when older than the window, no newer answer is shared. */
  private checkFlightAnswer(instance: Instance, answer: { value: Row; version: number }): void {
    const shared = this.redis.down || this.redis.cutOff.has(instance.id) ? undefined : this.redis.answers.get(KEY);
    if (this.trueAge(answer.value) >= WINDOW_MS + SAME_CLOCK_TOLERANCE_MS && (shared?.version ?? 0) > answer.version)
      this.violations.push(`${instance.id} answered version ${answer.version} though ${shared?.version} was shared`);
  }

  /** Claims end early when their holder cannot reach Redis: its query is no longer the fleet's only one. */
  private excuse(id?: string): void {
    for (const query of this.fleetQueries) if (id === undefined || query.id === id) query.excused = true;
  }

  /** A viewer's call, as the resilient query makes it: a fresh kept answer, else a query (one per instance). */
  async serve(instance: Instance, durationMs: number): Promise<void> {
    const kept = await instance.kept.read<Row>(KEY, WINDOW_MS);
    if (kept) this.seen(instance, kept.version);
    if (kept && ageOf(kept.fetchedAt, instance.now()) < WINDOW_MS) return this.checkReused(instance, kept.value);
    if (instance.querying) return;
    instance.querying = true;
    let queried = false;
    const query = this.own(instance, durationMs);
    const own = () => {
      queried = true;
      return query();
    };
    void instance.kept.fetch(KEY, own).then((answer) => {
      instance.querying = false;
      this.seen(instance, answer.version);
      // Taken from the fleet instead of querying: it must be fresh.
      if (!queried) this.checkReused(instance, answer.value);
      else this.checkFlightAnswer(instance, answer);
    });
    await this.settle();
  }

  private seen(instance: Instance, version: number): void {
    if (version < instance.highest)
      this.violations.push(`${instance.id} answered version ${version} after ${instance.highest}`);
    instance.highest = Math.max(instance.highest, version);
  }

  async run(command: Command): Promise<void> {
    const pick = (at: number) => this.instances[at % this.instances.length]!;
    switch (command.kind) {
      case "advance":
        return this.advance(command.ms);
      case "write":
        this.data += 1;
        return;
      case "serve":
        return this.serve(pick(command.at), command.durationMs);
      case "cut": {
        const { id } = pick(command.at);
        if (!this.redis.cutOff.delete(id)) this.redis.cutOff.add(id);
        this.excuse(id);
        return;
      }
      case "redis":
        this.redis.down = !this.redis.down;
        this.excuse();
        return;
      case "lapse":
        this.redis.lapse(KEY);
        this.excuse();
        return;
      case "restart": {
        const index = command.at % this.instances.length;
        // The old process is gone: its renewals and publishes no longer reach Redis.
        const { id } = this.instances[index]!;
        this.redis.cutOff.add(id);
        this.excuse(id);
        this.instances[index] = this.start(index, command.skewMs);
        return this.settle();
      }
    }
  }
}

const skew = fc.integer({ min: -FIVE_MINUTES, max: FIVE_MINUTES });
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 1_500 }) }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("write" as const) }) },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("serve" as const),
      at: fc.nat(),
      durationMs: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1_000, max: 4_000 })),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("redis" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("lapse" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("restart" as const), at: fc.nat(), skewMs: skew }) },
);

/**
 * Found by this property in CI (seed -106140989): a query started while Redis was down finished
 * after this instance had kept a fleet answer, and answered with that kept one although the fleet
 * had published a newer one meanwhile. Always run, beside the random schedules.
 */
const SLOW_QUERY_FROM_REDIS_DOWN: [number[], Command[]] = [
  [0, 0, 0, 0],
  [
    { kind: "redis" },
    { kind: "serve", at: 3, durationMs: 1101 },
    { kind: "redis" },
    { kind: "serve", at: 0, durationMs: 1 },
    { kind: "restart", at: 0, skewMs: 0 },
    { kind: "lapse" },
    { kind: "serve", at: 0, durationMs: 1 },
    { kind: "serve", at: 0, durationMs: 1 },
    { kind: "write" },
    { kind: "advance", ms: 1001 },
    { kind: "serve", at: 3, durationMs: 1000 },
    { kind: "restart", at: 0, skewMs: 0 },
    { kind: "serve", at: 0, durationMs: 1 },
    { kind: "serve", at: 0, durationMs: 1000 },
  ],
];

describe("last-known-good's ordering under skewed clocks, slow queries, lapsed claims, partitions and restarts", () => {
  it("never goes backwards, never serves stale data as fresh while newer exists, one fleet query per window", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(skew, { minLength: 2, maxLength: 4 }),
        fc.array(command, { minLength: 10, maxLength: 80 }),
        async (skews, commands) => {
          const world = new World(skews);
          for (const step of commands) await world.run(step);
          await world.advance(10_000); // every query finishes
          expect(world.violations).toEqual([]);
          // The shared answer is the highest version any claimant published.
          const published = world.redis.published.map((p) => p.version);
          expect(world.redis.answers.get(KEY)?.version ?? 0).toBe(Math.max(0, ...published));
        },
      ),
      { numRuns: 150, examples: [SLOW_QUERY_FROM_REDIS_DOWN] },
    );
  }, 120_000);
});
