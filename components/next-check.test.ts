import { describe, expect, it } from "vitest";
import type { Resilient } from "@/contract/answer";
import { sharedNextCheck } from "./next-check";

const degraded = (reason: "database_unavailable" | "query_slow", retryAt?: string): Resilient<number[]> => ({
  status: "degraded",
  data: [],
  cachedAt: "2026-12-04T20:00:00.000Z",
  reason,
  cause: "connection refused (127.0.0.1:8812)",
  message: "Failed to get active sessions: connection refused (127.0.0.1:8812)",
  breaker: "open",
  ...(retryAt ? { retryAt } : {}),
});

describe("sharedNextCheck", () => {
  it("the panels cached for QuestDB being unreachable share the latest retry time", () => {
    const answers = [degraded("database_unavailable", "2026-12-04T20:00:30.000Z"), undefined];
    answers.push(degraded("database_unavailable", "2026-12-04T20:01:00.000Z"));
    expect(sharedNextCheck(answers)).toBe("2026-12-04T20:01:00.000Z");
  });

  it("a slow query's own time, an ok answer or no time at all give none", () => {
    const ok: Resilient<number[]> = { status: "ok", data: [], fetchedAt: "2026-12-04T20:00:00.000Z" };
    expect(sharedNextCheck([ok, degraded("query_slow", "2026-12-04T20:05:00.000Z")])).toBeUndefined();
    expect(sharedNextCheck([degraded("database_unavailable")])).toBeUndefined();
  });
});
