import type { LiveEvent } from "@/contract/answer";
import type { ChangeDetector } from "./change-detector";
import { fingerprintOf, isSameOrOlder, newLoopId, parseRelayedEvent } from "./changes";
import { FetchPacer } from "./fetch-pacer";

/**
 * One live topic: its subscribers, its latest event, and where it is in its life. The life is a
 * union, the way cockatiel models its breaker, and every move between states is one named method
 * (`start`, `takeLoop`, `leaveLoop`, `stop`), so what a topic may do in each state reads in one
 * place: only a `looping` topic fetches, only a `relaying` one shows what the fleet publishes, and a
 * `stopped` one does neither again.
 * A relaying topic does not trust pub/sub alone: each tick, and when a client resumes, it compares
 * its latest with the topic's stored latest and catches up (a lost message costs a tick, not the
 * wait for the next change). A stored latest its loop has not confirmed within the claim's
 * lifetime is left from a loop that ended (up to ten minutes old): it is not shown as current —
 * this instance takes the free claim and shows its own first answer instead.
 * A looping topic queries when the change detector says a table it reads moved (at most every
 * `minIntervalMs`), and as a safety net every `intervalMs` while the detector cannot vouch for its
 * tables (failing, or none named) and every `safetyNetMs` while it can.
 * A change reaches subscribers in chunks, one turn of the event loop each: the first viewers get
 * it at once instead of all streams advancing in lockstep.
 */

/** How a fleet shares topics (server/fleet/live-relay.ts); every call answers `undefined` without Redis. */
export interface LiveRelay {
  /** Takes or renews the topic's loop for `ttlMs`: true when this instance runs it. */
  claim(topic: string, ttlMs: number): Promise<boolean | undefined>;
  /** Sends a change to every instance and keeps it as the topic's latest, for instances that join later. */
  publish(topic: string, event: string): Promise<void>;
  /**
   * The topic's latest event, unless its loop has neither published nor renewed its claim within
   * `maxAgeMs` (a loop that ended long ago left it).
   */
  latest(topic: string, maxAgeMs?: number): Promise<string | undefined>;
  listen(topic: string, onEvent: (event: string) => void): () => void;
}

export type LiveLog = (level: "info" | "warn", event: string, fields: Record<string, unknown>) => void;

export interface TopicSettings {
  /** The tick: the fleet's claim, the relay's catch-up, and the refresh while the detector cannot vouch. */
  intervalMs: number;
  /** Shortest time between two full queries of the topic. */
  minIntervalMs: number;
  /** The full refresh while the detector vouches that nothing changed (a query's window moves with time). */
  safetyNetMs: number;
  detector: ChangeDetector | null;
  relay: LiveRelay | null;
  log: LiveLog;
  /** Called once the last subscriber has left and the loop has stopped. */
  onEmpty: (topic: Topic) => void;
}

/** What runs while a topic has subscribers, whichever instance fetches: the tick, and the fleet's listener. */
interface Running {
  timer: NodeJS.Timeout;
  unlisten: (() => void) | null;
  /** A tick (claim, catch-up) is in flight: a slow one makes the next tick skip, not queue up. */
  ticking: boolean;
}

/** This instance's loop: its id and sequence, when it queries, and its watch on the change detector. */
interface Loop {
  id: string;
  seq: number;
  pacer: FetchPacer;
  unwatch: () => void;
}

type TopicState =
  | { state: "idle" }
  /** In a fleet, another instance runs the loop (or, until the first claim answers, may): its changes are relayed. */
  | { state: "relaying"; running: Running }
  /** This instance fetches; its events are `<loop.id>.<seq>`, the sequence counted from this loop's start. */
  | { state: "looping"; running: Running; loop: Loop }
  | { state: "stopped" };

/**
 * One subscriber: a stream that iterates (./live-stream.ts) or a broadcast response. Each holds only
 * the latest event it has not written yet, never a queue: a topic is a state, not a log.
 */
export interface TopicSubscriber {
  /** The id of the last event offered to it (or named on resuming): the same or an older one is not offered. */
  seen: string | null;
  offer(event: LiveEvent): void;
  /** The topic stopped (the hub closed). */
  end(): void;
}

/** A loop's claim lasts this many ticks, renewed every tick; its stored latest is confirmed as often. */
const CLAIM_TICKS = 3;
/** Subscribers handed a change per turn of the event loop. */
export const FANOUT_CHUNK = 128;

export class Topic {
  readonly subscribers = new Set<TopicSubscriber>();
  private state: TopicState = { state: "idle" };
  /** The latest event and what it says, without the fields that change on every fetch. */
  private latest: { event: LiveEvent; fingerprint: string } | null = null;

  constructor(
    readonly key: string,
    private readonly fetch: () => Promise<unknown>,
    /** The tables its query reads (none: the detector cannot vouch for it). */
    private readonly tables: readonly string[],
    private readonly settings: TopicSettings,
  ) {}

  /** Whether this instance runs the topic's loop (always, outside a fleet or while Redis is down). */
  get runsLoop(): boolean {
    return this.state.state === "looping";
  }

  /** idle → looping (alone) or relaying (in a fleet, until a claim says otherwise); the first answer now. */
  start(): void {
    if (this.state.state !== "idle") return;
    const { relay, intervalMs } = this.settings;
    const timer = setInterval(() => void this.tick(), intervalMs);
    timer.unref?.();
    const running: Running = { timer, unlisten: null, ticking: false };
    if (relay) {
      this.state = { state: "relaying", running };
      running.unlisten = relay.listen(this.key, (message) => this.showRelayed(message));
      void this.reconcile(relay);
    } else {
      this.state = { state: "looping", running, loop: this.newLoop() };
    }
    void this.tick(); // the first answer now, not one period later
  }

  /** A loop of this instance: a new id (its sequence is its own), its pacer, its watch on the detector. */
  private newLoop(): Loop {
    const pacer = new FetchPacer(() => this.fetchAndFanOut(), this.settings.minIntervalMs);
    const unwatch = this.settings.detector?.watch(this.tables, () => pacer.request()) ?? (() => undefined);
    return { id: newLoopId(), seq: 0, pacer, unwatch };
  }

  private static endLoop(loop: Loop): void {
    loop.pacer.stop();
    loop.unwatch();
  }

  /** relaying → looping: this instance took the fleet's claim, or Redis is down and it runs its own loop. */
  private takeLoop(redis: "ok" | "unavailable"): void {
    if (this.state.state !== "relaying") return;
    this.state = { state: "looping", running: this.state.running, loop: this.newLoop() };
    this.settings.log("info", "live.loop_taken", { topic: this.key, redis });
  }

  /** looping → relaying: another instance holds the fleet's claim. */
  private leaveLoop(): void {
    if (this.state.state !== "looping") return;
    Topic.endLoop(this.state.loop);
    this.state = { state: "relaying", running: this.state.running };
  }

  /** Any state → stopped: the tick and the listener end (a fleet's claim lapses by itself within its TTL). */
  stop(): void {
    if (this.state.state === "looping" || this.state.state === "relaying") {
      clearInterval(this.state.running.timer);
      this.state.running.unlisten?.();
    }
    if (this.state.state === "looping") Topic.endLoop(this.state.loop);
    this.state = { state: "stopped" };
    for (const subscriber of [...this.subscribers]) subscriber.end();
  }

  /** A subscriber joins: the current event at once, unless `lastEventId` names it or a newer one. */
  join(subscriber: TopicSubscriber, lastEventId: string | null | undefined): void {
    if (this.state.state === "stopped") {
      subscriber.end();
      return;
    }
    subscriber.seen = lastEventId ?? null;
    this.subscribers.add(subscriber);
    if (this.latest) this.offerTo(subscriber, this.latest.event);
    // Resuming: compared with the topic's latest, which this instance may have missed.
    if (lastEventId && this.settings.relay) void this.reconcile(this.settings.relay);
  }

  /** A subscriber leaves; the last one stops the loop. */
  leave(subscriber: TopicSubscriber): void {
    if (!this.subscribers.delete(subscriber) || this.subscribers.size > 0) return;
    this.stop();
    this.settings.onEmpty(this);
  }

  private async tick(): Promise<void> {
    if (this.state.state !== "looping" && this.state.state !== "relaying") return;
    const running = this.state.running;
    if (running.ticking) return;
    running.ticking = true;
    try {
      if (this.settings.relay) await this.claimLoop(this.settings.relay);
      // Relaying: the owner's changes arrive through listen(), and any it missed from the stored latest.
      if (this.state.state === "looping") this.refreshIfDue(this.state.loop);
      else if (this.settings.relay) await this.reconcile(this.settings.relay);
    } finally {
      running.ticking = false;
    }
  }

  /** The safety net: a full query when the detector cannot vouch for the tables, or once a `safetyNetMs`. */
  private refreshIfDue(loop: Loop): void {
    const { detector, intervalMs, safetyNetMs } = this.settings;
    const vouched = detector?.vouches(this.tables, intervalMs) ?? false;
    const sinceLast = Date.now() - loop.pacer.lastStartedAt;
    // A tick's timer may fire a little early: "one period" is taken with a tenth of slack.
    if (sinceLast >= (vouched ? safetyNetMs : intervalMs) * 0.9) loop.pacer.request();
  }

  /** Takes or renews the fleet's loop; Redis unavailable: runs it here rather than show nothing. */
  private async claimLoop(relay: LiveRelay): Promise<void> {
    const claimed = await relay.claim(this.key, this.settings.intervalMs * CLAIM_TICKS);
    if (claimed === false) this.leaveLoop();
    else this.takeLoop(claimed === undefined ? "unavailable" : "ok");
  }

  private async fetchAndFanOut(): Promise<void> {
    let answer: unknown;
    try {
      answer = await this.fetch();
    } catch (error) {
      // The resilient layer answers with a union; a throw here is a bug, logged, and the loop goes on.
      this.settings.log("warn", "live.fetch_failed", {
        topic: this.key,
        error: error instanceof Error ? error.message || error.name : String(error),
      });
      return;
    }
    if (this.state.state !== "looping") return; // stopped or left meanwhile
    const { loop } = this.state;
    const fingerprint = fingerprintOf(answer);
    if (this.latest && fingerprint === this.latest.fingerprint) return;
    loop.seq += 1;
    const event: LiveEvent = { id: `${loop.id}.${loop.seq}`, answer };
    this.deliver(event, fingerprint);
    if (this.settings.relay) await this.settings.relay.publish(this.key, JSON.stringify(event));
  }

  /** Catches up with the topic's stored latest, if its loop still confirms it and this instance missed it. */
  private async reconcile(relay: LiveRelay): Promise<void> {
    if (this.state.state !== "relaying") return;
    const message = await relay.latest(this.key, this.settings.intervalMs * CLAIM_TICKS);
    if (message) this.showRelayed(message);
  }

  /** Shows what the fleet's loop published, unless this instance runs the loop itself. */
  private showRelayed(message: string): void {
    const event = parseRelayedEvent(message);
    if (event && this.state.state === "relaying") this.deliver(event);
  }

  private deliver(event: LiveEvent, fingerprint = fingerprintOf(event.answer)): void {
    if (this.latest && isSameOrOlder(event.id, this.latest.event.id)) return;
    this.latest = { event, fingerprint };
    this.fanOut([...this.subscribers], 0);
  }

  /**
   * Hands the latest event to `targets` from `from` on, FANOUT_CHUNK per turn of the event loop, so
   * the first chunk's responses are written before the next chunk is served. A newer event arriving
   * meanwhile is what the later chunks get.
   */
  private fanOut(targets: TopicSubscriber[], from: number): void {
    const event = this.latest?.event;
    if (!event) return;
    const end = Math.min(from + FANOUT_CHUNK, targets.length);
    for (let i = from; i < end; i++) {
      const subscriber = targets[i]!;
      if (this.subscribers.has(subscriber)) this.offerTo(subscriber, event);
    }
    if (end < targets.length) setImmediate(() => this.fanOut(targets, end));
  }

  private offerTo(subscriber: TopicSubscriber, event: LiveEvent): void {
    if (isSameOrOlder(event.id, subscriber.seen)) return;
    subscriber.seen = event.id;
    subscriber.offer(event);
  }
}
