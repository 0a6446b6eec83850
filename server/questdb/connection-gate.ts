/**
 * The bulkhead over real connections: at most `slots` connections to QuestDB at once, each slot
 * held from before the connection is taken until it is released or destroyed — not merely until
 * the caller stops waiting — so an abandoned attempt still counts until its connection is gone.
 * Waiting is bounded twice: a queue of at most `maxQueued`, and at most `maxWaitMs` in it.
 */

export class GateBusyError extends Error {
  constructor(
    readonly why: "queue_full" | "waited_too_long",
    readonly detail: string,
  ) {
    super(detail);
    this.name = "GateBusyError";
  }
}

/** Gives the slot back; a second call does nothing. */
export type ReleaseSlot = () => void;

interface Waiter {
  grant: (release: ReleaseSlot) => void;
  timer: NodeJS.Timeout;
}

export class ConnectionGate {
  private inUse = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly slots: number,
    readonly maxQueued: number,
    readonly maxWaitMs: number,
  ) {}

  get used(): number {
    return this.inUse;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** A slot now, or once one is free; GateBusyError when the queue is full or the wait too long. */
  acquire(maxWaitMs = this.maxWaitMs): Promise<ReleaseSlot> {
    if (this.inUse < this.slots) {
      this.inUse++;
      return Promise.resolve(this.releaser());
    }
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(
        new GateBusyError("queue_full", `too many queries waiting for a connection (${this.queue.length} queued)`),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: resolve,
        timer: setTimeout(() => {
          const at = this.queue.indexOf(waiter);
          if (at >= 0) this.queue.splice(at, 1);
          reject(new GateBusyError("waited_too_long", `no free connection within ${maxWaitMs} ms`));
        }, maxWaitMs),
      };
      this.queue.push(waiter);
    });
  }

  /** A slot only if one is free right now (the health probe never queues behind queries). */
  tryAcquire(): ReleaseSlot | null {
    if (this.inUse >= this.slots) return null;
    this.inUse++;
    return this.releaser();
  }

  private releaser(): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next) {
        clearTimeout(next.timer);
        next.grant(this.releaser()); // the slot passes straight on: inUse stays the same
      } else {
        this.inUse--;
      }
    };
  }
}
