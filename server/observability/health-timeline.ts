import type { QuestdbEvent } from "@/server/questdb/events";
import type { BreakerState } from "@/contract/answer";

/**
 * The last 15 minutes of the QuestDB endpoint, kept in memory for the health panel: breaker state
 * changes, query latency p50/p95 per interval, and outages with their cause. Small and bounded:
 * old entries fall off as new ones come; a query's latency is one number in its interval's bucket.
 */

export const TIMELINE_WINDOW_MS = 15 * 60_000;
export const TIMELINE_BUCKET_MS = 15_000;
/** At most this many latencies kept per bucket (a sample is enough for p50/p95). */
const SAMPLES_PER_BUCKET = 500;

export interface TimelineSnapshot {
  from: string;
  to: string;
  bucketMs: number;
  /** The state at `from`, then every change: enough to draw bands. */
  breaker: Array<{ at: string; state: BreakerState; cause?: string }>;
  latency: Array<{ at: string; p50Ms: number; p95Ms: number; count: number }>;
  outages: Array<{ from: string; to: string | null; cause: string }>;
}

interface Bucket {
  start: number;
  samples: number[];
  count: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const iso = (ms: number) => new Date(ms).toISOString();
const round = (ms: number) => Math.round(ms * 10) / 10;

export class HealthTimeline {
  private changes: Array<{ at: number; state: BreakerState; cause?: string }> = [];
  private buckets: Bucket[] = [];
  private outages: Array<{ from: number; to: number | null; cause: string }> = [];
  private state: BreakerState = "closed";

  constructor(private readonly now: () => number = Date.now) {}

  record(event: QuestdbEvent): void {
    if (event.type === "breaker_changed") this.breakerChanged(event.state, event.cause);
    if (event.type === "query_succeeded") this.latency(event.seconds * 1000);
    this.trim();
  }

  private breakerChanged(state: BreakerState, cause: string | undefined): void {
    const at = this.now();
    this.state = state;
    this.changes.push({ at, state, ...(cause ? { cause } : {}) });
    const open = this.outages.at(-1);
    if (state === "open" && (!open || open.to !== null))
      this.outages.push({ from: at, to: null, cause: cause ?? "circuit breaker open" });
    if (state === "closed" && open && open.to === null) open.to = at;
  }

  private latency(ms: number): void {
    const start = Math.floor(this.now() / TIMELINE_BUCKET_MS) * TIMELINE_BUCKET_MS;
    let bucket = this.buckets.at(-1);
    if (!bucket || bucket.start !== start) this.buckets.push((bucket = { start, samples: [], count: 0 }));
    bucket.count++;
    // Beyond the sample size, replace at random: the percentiles stay an honest sample.
    if (bucket.samples.length < SAMPLES_PER_BUCKET) bucket.samples.push(ms);
    else bucket.samples[Math.floor(Math.random() * SAMPLES_PER_BUCKET)] = ms;
  }

  private trim(): void {
    const since = this.now() - TIMELINE_WINDOW_MS;
    while (this.buckets.length && this.buckets[0]!.start + TIMELINE_BUCKET_MS < since) this.buckets.shift();
    // Keep the last change before the window: it is the state the window starts in.
    while (this.changes.length > 1 && this.changes[1]!.at <= since) this.changes.shift();
    this.outages = this.outages.filter((o) => o.to === null || o.to >= since);
  }

  snapshot(): TimelineSnapshot {
    this.trim();
    const to = this.now();
    const from = to - TIMELINE_WINDOW_MS;
    const first = this.changes[0];
    const startState = first && first.at <= from ? first.state : first ? "closed" : this.state;
    const breaker = [
      { at: iso(from), state: startState },
      ...this.changes.filter((c) => c.at > from).map((c) => ({ ...c, at: iso(c.at) })),
    ];
    const latency = this.buckets.map((b) => {
      const sorted = [...b.samples].sort((x, y) => x - y);
      return {
        at: iso(b.start),
        p50Ms: round(percentile(sorted, 50)),
        p95Ms: round(percentile(sorted, 95)),
        count: b.count,
      };
    });
    const outages = this.outages.map((o) => ({
      from: iso(Math.max(o.from, from)),
      to: o.to === null ? null : iso(o.to),
      cause: o.cause,
    }));
    return { from: iso(from), to: iso(to), bucketMs: TIMELINE_BUCKET_MS, breaker, latency, outages };
  }
}
