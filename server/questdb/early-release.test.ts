import { describe, expect, it, vi } from "vitest";
import { earlyBreakerRelease, type EarlyReleaseDeps } from "./early-release";
import type { QuestdbEvent } from "./events";

function setup(opts: { released?: boolean; claimed?: boolean } = {}) {
  const probe = vi.fn(async () => [{ one: 1 }]);
  const policy = {
    releaseBreaker: vi.fn(() => opts.released ?? true),
    execute: vi.fn((_operation: string, attempt: () => Promise<unknown>) => attempt()),
  };
  const claimProbe = opts.claimed === undefined ? undefined : vi.fn(async () => opts.claimed!);
  const onEvent = earlyBreakerRelease({ policy: policy as EarlyReleaseDeps["policy"], probe, claimProbe });
  return { onEvent, policy, probe };
}

const answered: QuestdbEvent = { type: "health_checked", ok: true };
const unanswered: QuestdbEvent = {
  type: "health_check_failed",
  answered: false,
  error: "Failed to run the health check: connection refused",
  errorType: "Error",
  evicted: 2,
  checked: 2,
};

describe("early breaker release (a hub subscriber)", () => {
  it("a health check that saw QuestDB answer releases the breaker and probes at once, under the policy", async () => {
    const { onEvent, policy, probe } = setup();
    onEvent(answered);
    await vi.waitFor(() => expect(probe).toHaveBeenCalledTimes(1));
    expect(policy.execute).toHaveBeenCalledWith("health.probe", probe);
  });

  it("a health check that failed while QuestDB still answered other queries counts as answered", async () => {
    const { onEvent, probe } = setup();
    onEvent({ ...unanswered, answered: true });
    await vi.waitFor(() => expect(probe).toHaveBeenCalledTimes(1));
  });

  it("nothing to release (closed, or released already), or QuestDB silent: no probe", async () => {
    const closed = setup({ released: false });
    closed.onEvent(answered);
    const silent = setup();
    silent.onEvent(unanswered);
    silent.onEvent({ type: "query_started", operation: "sessions.active" });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closed.probe).not.toHaveBeenCalled();
    expect(silent.policy.releaseBreaker).not.toHaveBeenCalled();
    expect(silent.probe).not.toHaveBeenCalled();
  });

  it("in a fleet, only the instance that wins the probe claim probes", async () => {
    const lost = setup({ claimed: false });
    lost.onEvent(answered);
    const won = setup({ claimed: true });
    won.onEvent(answered);
    await vi.waitFor(() => expect(won.probe).toHaveBeenCalledTimes(1));
    expect(lost.probe).not.toHaveBeenCalled();
  });
});
