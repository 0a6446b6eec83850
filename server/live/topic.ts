import type { LiveEvent } from "@/contract/answer";
import { fingerprintOf, isSameOrOlder, newLoopId, parseRelayedEvent } from "./changes";

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
  intervalMs: number;
  relay: LiveRelay | null;
  log: LiveLog;
  /** Called once the last subscriber has left and the loop has stopped. */
  onEmpty: (topic: Topic) => void;
}

/** What runs while a topic has subscribers, whichever instance fetches: the tick, and the fleet's listener. */
interface Running {
  timer: NodeJS.Timeout;
  unlisten: (() => void) | null;
  /** A tick (claim and fetch) is in flight: a slow fetch makes the next tick skip, not queue up. */
  ticking: boolean;
}

type TopicState =
  | { state: "idle" }
  /** In a fleet, another instance runs the loop (or, until the first claim answers, may): its changes are relayed. */
  | { state: "relaying"; running: Running }
  /** This instance fetches every tick; its events are `<loopId>.<seq>`, the sequence counted from this loop's start. */
  | { state: "looping"; running: Running; loopId: string; seq: number }
  | { state: "stopped" };

/** One subscriber holds the latest event it has not taken yet, never a queue: a topic is a state, not a log. */
interface Subscriber {
  pending: LiveEvent | null;
  /** The id of the last event it has (taken, or named on resuming): the same or an older one is not sent. */
  seen: string | null;
  wake: (() => void) | null;
}

/** A loop's claim lasts this many ticks, renewed every tick; its stored latest is confirmed as often. */
const CLAIM_TICKS = 3;

export class Topic {
  readonly subscribers = new Set<Subscriber>();
  private state: TopicState = { state: "idle" };
  /** The latest event and what it says, without the fields that change on every fetch. */
  private latest: { event: LiveEvent; fingerprint: string } | null = null;

  constructor(
    readonly key: string,
    private readonly fetch: () => Promise<unknown>,
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
      this.state = { state: "looping", running, loopId: newLoopId(), seq: 0 };
    }
    void this.tick(); // the first answer now, not one period later
  }

  /** relaying → looping: this instance took the fleet's claim, or Redis is down and it runs its own loop. */
  private takeLoop(redis: "ok" | "unavailable"): void {
    if (this.state.state !== "relaying") return;
    // A new owner starts a new loop id: its sequence is its own.
    this.state = { state: "looping", running: this.state.running, loopId: newLoopId(), seq: 0 };
    this.settings.log("info", "live.loop_taken", { topic: this.key, redis });
  }

  /** looping → relaying: another instance holds the fleet's claim. */
  private leaveLoop(): void {
    if (this.state.state !== "looping") return;
    this.state = { state: "relaying", running: this.state.running };
  }

  /** Any state → stopped: the tick and the listener end (a fleet's claim lapses by itself within its TTL). */
  stop(): void {
    if (this.state.state === "looping" || this.state.state === "relaying") {
      clearInterval(this.state.running.timer);
      this.state.running.unlisten?.();
    }
    this.state = { state: "stopped" };
    for (const subscriber of this.subscribers) subscriber.wake?.();
  }

  /**
   * The topic's events for one subscriber, from the current one (unless `lastEventId` names it)
   * until `signal` aborts.
   */
  async *stream<T>(
    lastEventId: string | null | undefined,
    signal: AbortSignal,
    closed: () => boolean,
  ): AsyncGenerator<LiveEvent<T>> {
    const subscriber: Subscriber = { pending: null, seen: lastEventId ?? null, wake: null };
    if (this.latest && !isSameOrOlder(this.latest.event.id, lastEventId)) subscriber.pending = this.latest.event;
    this.subscribers.add(subscriber);
    // Resuming: compared with the topic's latest, which this instance may have missed.
    if (lastEventId && this.settings.relay) void this.reconcile(this.settings.relay);
    const onAbort = () => subscriber.wake?.();
    signal.addEventListener("abort", onAbort);
    try {
      while (!signal.aborted && !closed()) {
        const event = subscriber.pending;
        if (event) {
          subscriber.pending = null;
          subscriber.seen = event.id;
          yield event as LiveEvent<T>;
          continue;
        }
        await new Promise<void>((resolve) => (subscriber.wake = resolve));
        subscriber.wake = null;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.subscribers.delete(subscriber);
      // The last one left: the loop stops.
      if (this.subscribers.size === 0) {
        this.stop();
        this.settings.onEmpty(this);
      }
    }
  }

  private async tick(): Promise<void> {
    if (this.state.state !== "looping" && this.state.state !== "relaying") return;
    const running = this.state.running;
    if (running.ticking) return;
    running.ticking = true;
    try {
      if (this.settings.relay) await this.claimLoop(this.settings.relay);
      // Relaying: the owner's changes arrive through listen(), and any it missed from the stored latest.
      if (this.state.state === "looping") await this.fetchAndFanOut();
      else if (this.settings.relay) await this.reconcile(this.settings.relay);
    } finally {
      running.ticking = false;
    }
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
    const loop = this.state;
    if (loop.state !== "looping") return; // stopped meanwhile
    const fingerprint = fingerprintOf(answer);
    if (this.latest && fingerprint === this.latest.fingerprint) return;
    loop.seq += 1;
    const event: LiveEvent = { id: `${loop.loopId}.${loop.seq}`, answer };
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
    for (const subscriber of this.subscribers) {
      if (isSameOrOlder(event.id, subscriber.seen)) continue;
      subscriber.pending = event;
      subscriber.wake?.();
    }
  }
}
