import { describe, expect, it, vi } from "vitest";
import { ConnectionGate, GateBusyError } from "./connection-gate";
import { settle, useFakeClock } from "./testing/fake-clock";

useFakeClock();

describe("connection gate", () => {
  it("gives at most `slots` at once; a released slot passes straight to the next waiter", async () => {
    const gate = new ConnectionGate(2, 10, 1_000);
    const a = await gate.acquire();
    await gate.acquire();
    const third = gate.acquire();
    expect(gate.used).toBe(2);
    expect(gate.waiting).toBe(1);
    a();
    a(); // a second release of the same slot frees nothing more
    await third;
    expect(gate.used).toBe(2);
    expect(gate.waiting).toBe(0);
    expect(gate.tryAcquire()).toBeNull();
  });

  it("a waiter that gave up leaves the queue: its slot is not lost", async () => {
    const gate = new ConnectionGate(1, 10, 500);
    const held = await gate.acquire();
    const waiter = settle(gate.acquire());
    await vi.advanceTimersByTimeAsync(500);
    const gaveUp = await waiter;
    expect(!gaveUp.ok && gaveUp.error).toBeInstanceOf(GateBusyError);
    expect(gate.waiting).toBe(0);
    held();
    expect(gate.used).toBe(0);
    const again = gate.tryAcquire();
    expect(again).not.toBeNull();
    expect(gate.used).toBe(1);
  });

  it("refuses at once when the queue is full", async () => {
    const gate = new ConnectionGate(1, 1, 1_000);
    await gate.acquire();
    void gate.acquire().catch(() => undefined);
    const refused = await settle(gate.acquire());
    expect(!refused.ok && (refused.error as GateBusyError).why).toBe("queue_full");
  });
});
