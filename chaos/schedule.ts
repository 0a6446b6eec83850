import type { Rng } from "../harness/prng";
import type { QuestdbProcess } from "../harness/questdb-process";
import { FINAL_DOWN_MS, INTERVAL_MS } from "./settings";

/**
 * The chaos itself: QuestDB goes up → killed or frozen → restarted or thawed → up …, at seeded
 * random intervals, and the record of what was done when.
 */

export type QuestdbState = "up" | "killed" | "frozen";
export type Action = "kill" | "freeze" | "thaw" | "restart";

export interface ChaosEvent {
  atS: number;
  action: Action;
  tookMs: number;
  final?: boolean;
}

export interface StateChange {
  /** Seconds since the chaos started. */
  atS: number;
  state: QuestdbState;
}

export class ChaosSchedule {
  readonly events: ChaosEvent[] = [];
  readonly states: StateChange[] = [{ atS: 0, state: "up" }];
  state: QuestdbState = "up";
  /** Since when QuestDB has been up (epoch ms), or null while it is killed or frozen. */
  upSince: number | null;

  constructor(
    private readonly questdb: QuestdbProcess,
    readonly chaosStart: number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    this.upSince = chaosStart;
  }

  /** Faults 3–15 s apart until `durationMs` after the start; false when aborted on the way. */
  async run(rng: Rng, durationMs: number, aborted: () => boolean): Promise<boolean> {
    for (;;) {
      const waitMs = rng.int(INTERVAL_MS[0], INTERVAL_MS[1]);
      const left = durationMs - (Date.now() - this.chaosStart);
      if (waitMs >= left) {
        await this.sleep(Math.max(0, left));
        return true;
      }
      await this.sleep(waitMs);
      if (aborted()) return false;
      const action: Action =
        this.state === "up" ? (rng.chance(0.5) ? "kill" : "freeze") : this.state === "killed" ? "restart" : "thaw";
      await this.perform(action);
    }
  }

  /** The end: a last kill (unless QuestDB is already down), then a restart; returns when it is done. */
  async finalRestart(): Promise<number> {
    if (this.state !== "killed") {
      await this.perform("kill", true);
      await this.sleep(FINAL_DOWN_MS);
    }
    await this.perform("restart", true);
    return Date.now();
  }

  private async perform(action: Action, final = false): Promise<void> {
    const started = Date.now();
    // A fault starts when the signal is sent; QuestDB is up again once it answers (restart) or runs (thaw).
    const fault = action === "kill" || action === "freeze";
    const next: QuestdbState = action === "kill" ? "killed" : action === "freeze" ? "frozen" : "up";
    if (fault) {
      this.upSince = null;
      this.states.push({ atS: (started - this.chaosStart) / 1000, state: next });
    }
    await this.act(action);
    const event: ChaosEvent = {
      atS: (started - this.chaosStart) / 1000,
      action,
      tookMs: Date.now() - started,
      ...(final ? { final } : {}),
    };
    this.events.push(event);
    this.state = next;
    if (!fault) {
      this.upSince = Date.now();
      this.states.push({ atS: (this.upSince - this.chaosStart) / 1000, state: next });
    }
    console.log(
      `chaos: +${event.atS.toFixed(1)} s ${action}${action === "restart" ? ` (${(event.tookMs / 1000).toFixed(1)} s)` : ""}`,
    );
  }

  private async act(action: Action): Promise<void> {
    switch (action) {
      case "kill":
        await this.questdb.kill();
        return;
      case "freeze":
        this.questdb.freeze();
        return;
      case "thaw":
        this.questdb.thaw();
        return;
      case "restart":
        await this.questdb.restart();
        return;
    }
  }

  /** QuestDB's state at an epoch-ms moment (undefined before the first record). */
  stateAt(atMs: number): StateChange | undefined {
    return [...this.states].reverse().find((st) => this.chaosStart + st.atS * 1000 <= atMs);
  }
}
