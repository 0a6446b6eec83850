import { describe, expect, it, vi } from "vitest";
import type { FailureInfo } from "./errors";
import type { QuestdbEvent } from "./events";
import { notePoolHealth } from "./pool-health";

const failed = (kind: FailureInfo["kind"]): QuestdbEvent => ({
  type: "query_failed",
  operation: "sessions.active",
  seconds: 0.1,
  failure: { kind, cause: "connection refused (127.0.0.1:8812)", errorType: "Error" },
  message: `Failed to get active sessions: ${kind}`,
  sql: "SELECT 1",
});

describe("the pool's health follows how queries ended (a hub subscriber)", () => {
  it("a success is noted with when its answer was fetched; a failure with its message", () => {
    const pool = { noteSuccess: vi.fn(), noteFailure: vi.fn() };
    const note = notePoolHealth(pool);
    note({ type: "query_succeeded", operation: "sessions.active", seconds: 0.01, fetchedAt: 1_000 });
    note(failed("connection_refused"));
    note(failed("query_failed"));
    expect(pool.noteSuccess).toHaveBeenCalledWith(new Date(1_000));
    expect(pool.noteFailure.mock.calls).toEqual([
      ["Failed to get active sessions: connection_refused"],
      ["Failed to get active sessions: query_failed"],
    ]);
  });

  it("failing fast or a full queue says nothing new about QuestDB: not noted", () => {
    const pool = { noteSuccess: vi.fn(), noteFailure: vi.fn() };
    const note = notePoolHealth(pool);
    note(failed("breaker_open"));
    note(failed("pool_busy"));
    note({ type: "query_started", operation: "sessions.active" });
    expect(pool.noteFailure).not.toHaveBeenCalled();
    expect(pool.noteSuccess).not.toHaveBeenCalled();
  });
});
