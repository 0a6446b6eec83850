import { percentile, round } from "../../../harness/stats";

/**
 * Which viewer first saw which write, when, and when the server had fetched the answer it saw:
 * the raw material of the update delay, for SSE and polling viewers alike.
 */

export interface WriteRecord {
  sessionId: string;
  /** performance.now() when the INSERT was acknowledged: the reference of every delay. */
  committedAt: number | null;
  insertMs: number | null;
  /** From the acknowledgement until a plain query on another connection sees the row (WAL apply). */
  visibleAfterMs: number | null;
  error?: string;
}

/**
 * One write's delays over the viewers; `spreadMs` is its last sighting minus its first (an SSE
 * fan-out's length). The delay splits at the `fetchedAt` of the answer in which the viewer first
 * saw the session: `fetchLagMs` (write → the server's query that read the row: the live loop's
 * cadence, or when a poll found no fresh answer to reuse) and `deliveryMs` (that query → the
 * viewer has it: SSE fan-out, queueing and transport; for polling also the age of a reused answer).
 */
export interface PerWrite {
  p50: number | null;
  p99: number | null;
  spreadMs: number | null;
  seenBy: number;
  fetchLagMs: { p50: number; max: number } | null;
  deliveryMs: { p50: number; p99: number } | null;
}

/** Over every sighting: write → the server's fetch, and that fetch → the viewer. */
export interface DelaySplit {
  fetchLagMs: { p50: number; p99: number } | null;
  deliveryMs: { p50: number; p99: number } | null;
}

export interface SightingSummary {
  delays: number[];
  missed: number;
  viewersWithNoUpdate: number;
  perWrite: PerWrite[];
  split: DelaySplit;
}

const FETCHED_AT = /"fetchedAt":"([^"]+)"/;

const max = (d: number[]) => d.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
const min = (d: number[]) => d.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
const p50p99 = (d: number[]) =>
  d.length ? { p50: round(percentile(d, 50), 1), p99: round(percentile(d, 99), 1) } : null;

/** Per write: every viewer's delay, and its split at the answer's fetchedAt where known. */
interface PerWriteSamples {
  delays: number[];
  lags: number[];
  delivery: number[];
}

function perWriteSummary({ delays: d, lags, delivery }: PerWriteSamples): PerWrite {
  return {
    p50: d.length ? round(percentile(d, 50), 1) : null,
    p99: d.length ? round(percentile(d, 99), 1) : null,
    spreadMs: d.length ? round(max(d) - min(d), 1) : null,
    seenBy: d.length,
    fetchLagMs: lags.length ? { p50: round(percentile(lags, 50), 1), max: round(max(lags), 1) } : null,
    deliveryMs: p50p99(delivery),
  };
}

export class Sightings {
  readonly writes: WriteRecord[] = [];
  private readonly seen: Float64Array[];
  /** The sighting's answer's fetchedAt, on performance.now()'s time line. */
  private readonly fetched: Float64Array[];

  constructor(
    readonly viewers: number,
    maxWrites: number,
  ) {
    this.seen = Array.from({ length: viewers }, () => new Float64Array(maxWrites).fill(Number.NaN));
    this.fetched = Array.from({ length: viewers }, () => new Float64Array(maxWrites).fill(Number.NaN));
  }

  note(viewer: number, text: string, at: number): void {
    const row = this.seen[viewer]!;
    for (let w = 0; w < this.writes.length; w++) {
      if (!Number.isNaN(row[w]!) || !text.includes(this.writes[w]!.sessionId)) continue;
      row[w] = at;
      const fetchedAt = FETCHED_AT.exec(text)?.[1];
      if (fetchedAt) this.fetched[viewer]![w] = Date.parse(fetchedAt) - (Date.now() - performance.now());
    }
  }

  private committed(): number[] {
    return this.writes.flatMap((write, w) => (write.committedAt !== null ? [w] : []));
  }

  allSeen(): boolean {
    const writes = this.committed();
    return this.seen.every((row) => writes.every((w) => !Number.isNaN(row[w]!)));
  }

  /** Delays (ms) of every sighting of a committed write, and what was never seen. */
  summary(): SightingSummary {
    const writes = this.committed();
    const samples: PerWriteSamples[] = this.writes.map(() => ({ delays: [], lags: [], delivery: [] }));
    let missed = 0;
    let viewersWithNoUpdate = 0;
    this.seen.forEach((row, viewer) => {
      const seenWrites = writes.filter((w) => !Number.isNaN(row[w]!));
      missed += writes.length - seenWrites.length;
      if (seenWrites.length === 0 && writes.length > 0) viewersWithNoUpdate++;
      for (const w of seenWrites) this.addSample(samples[w]!, row[w]!, w, viewer);
    });
    const delays = samples.flatMap((s) => s.delays);
    const split = {
      fetchLagMs: p50p99(samples.flatMap((s) => s.lags)),
      deliveryMs: p50p99(samples.flatMap((s) => s.delivery)),
    };
    return { delays, missed, viewersWithNoUpdate, perWrite: samples.map(perWriteSummary), split };
  }

  private addSample(sample: PerWriteSamples, at: number, w: number, viewer: number): void {
    const committedAt = this.writes[w]!.committedAt!;
    sample.delays.push(at - committedAt);
    const fetched = this.fetched[viewer]![w]!;
    if (Number.isNaN(fetched)) return;
    sample.lags.push(fetched - committedAt);
    sample.delivery.push(at - fetched);
  }
}
