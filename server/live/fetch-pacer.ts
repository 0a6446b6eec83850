/**
 * When a live topic runs its full query: at once when asked, unless one ran less than `minIntervalMs`
 * ago (then at the end of that gap) or one is under way (then once more after it, however many asks
 * came meanwhile). Changes arriving faster than the gap cost one query per gap, never a queue.
 */

type PacerState =
  | { state: "idle" }
  | { state: "waiting"; timer: NodeJS.Timeout }
  /** `again`: asked while running: one more run once this one ends. */
  | { state: "running"; again: boolean }
  | { state: "stopped" };

export class FetchPacer {
  private state: PacerState = { state: "idle" };
  /** When the last run started (0: never). */
  lastStartedAt = 0;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly minIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  request(): void {
    const { state } = this.state;
    if (state === "stopped" || state === "waiting") return;
    if (state === "running") {
      this.state = { state: "running", again: true };
      return;
    }
    const waitMs = this.lastStartedAt + this.minIntervalMs - this.now();
    if (waitMs <= 0) {
      void this.runNow();
      return;
    }
    const timer = setTimeout(() => {
      if (this.state.state === "waiting") void this.runNow();
    }, waitMs);
    timer.unref?.();
    this.state = { state: "waiting", timer };
  }

  stop(): void {
    if (this.state.state === "waiting") clearTimeout(this.state.timer);
    this.state = { state: "stopped" };
  }

  private async runNow(): Promise<void> {
    this.state = { state: "running", again: false };
    this.lastStartedAt = this.now();
    try {
      await this.run();
    } finally {
      const after = this.state;
      if (after.state === "running") {
        this.state = { state: "idle" };
        if (after.again) this.request();
      }
    }
  }
}
