import { describe, expect, it } from "vitest";
import type { Resilient } from "@/contract/answer";
import { keptAnswer } from "./kept-answer";

const T1 = "2026-11-28T10:00:00.000Z";
const T2 = "2026-11-28T10:05:00.000Z";
const ok = (data: string[], fetchedAt: string): Resilient<string[]> => ({ status: "ok", data, fetchedAt });
/** What the page receives while QuestDB refuses connections (the browser's tests import nothing of server/). */
const REFUSED = {
  reason: "database_unavailable",
  message: "Failed to get active sessions: connection refused (127.0.0.1:8812)",
  cause: "connection refused (127.0.0.1:8812)",
} as const;
const degraded = (data: string[], cachedAt: string): Resilient<string[]> => ({
  status: "degraded",
  data,
  cachedAt,
  ...REFUSED,
  breaker: "open",
});
const error: Resilient<string[]> = { status: "error", data: null, ...REFUSED, breaker: "closed" };

describe("the browser never loses data it has", () => {
  it("an error after degraded keeps the rows on screen, under the older 'as of' time and the error's cause", () => {
    expect(keptAnswer(degraded(["a"], T2) as never, error)).toMatchObject({
      status: "degraded",
      data: ["a"],
      cachedAt: T2,
      cause: "connection refused (127.0.0.1:8812)",
    });
  });

  it("an error after ok keeps the rows, as of when they were fetched", () => {
    expect(keptAnswer(ok(["a"], T1) as never, error)).toMatchObject({ status: "degraded", data: ["a"], cachedAt: T1 });
  });

  it("an older cachedAt never replaces what is shown: the time never moves backwards", () => {
    expect(keptAnswer(degraded(["new"], T2) as never, degraded(["old"], T1))).toMatchObject({
      data: ["new"],
      cachedAt: T2,
    });
    expect(keptAnswer(ok(["new"], T2) as never, degraded(["old"], T1))).toMatchObject({
      status: "degraded",
      data: ["new"],
      cachedAt: T2,
    });
  });

  it("newer data replaces what is shown, and nothing shown yet means the answer as it came", () => {
    expect(keptAnswer(degraded(["old"], T1) as never, ok(["new"], T2))).toEqual(ok(["new"], T2));
    expect(keptAnswer(degraded(["old"], T1) as never, degraded(["newer"], T2))).toEqual(degraded(["newer"], T2));
    expect(keptAnswer(undefined, error)).toBe(error);
  });

  it("an older ok is ignored: what is shown keeps its status, no banner for a healthy QuestDB (a later viewer's first event)", () => {
    // The page was rendered with an answer fetched at T2; the topic's latest change, pushed at
    // once to a new subscriber, was fetched at T1. QuestDB is fine: nothing may say otherwise.
    const shown = ok(["new"], T2);
    expect(keptAnswer(shown as never, ok(["old"], T1))).toBe(shown);
    const stale = degraded(["new"], T2);
    expect(keptAnswer(stale as never, ok(["old"], T1))).toBe(stale);
  });

  describe("ordered by the server's version when both answers carry one", () => {
    const v = <A extends Resilient<string[]>>(answer: A, version: number) => ({ ...answer, version }) as A;

    it("an older version never replaces a newer one, though its time is later (a host whose clock runs ahead)", () => {
      const shown = v(ok(["newer"], T1), 8);
      expect(keptAnswer(shown as never, v(ok(["older"], T2), 7))).toBe(shown);
      expect(keptAnswer(shown as never, v(degraded(["older"], T2), 7))).toMatchObject({
        status: "degraded",
        data: ["newer"],
        cachedAt: T1,
        version: 8,
      });
    });

    it("a newer version replaces what is shown, though its time is earlier (a host whose clock runs behind)", () => {
      const next = v(ok(["newer"], T1), 9);
      expect(keptAnswer(v(ok(["older"], T2), 8) as never, next)).toBe(next);
      const sameFetchNowStale = v(degraded(["same"], T1), 9);
      expect(keptAnswer(next as never, sameFetchNowStale)).toBe(sameFetchNowStale);
    });

    it("the SSR answer and a topic's first event of the same fetch agree: nothing changes, no banner", () => {
      const ssr = v(ok(["rows"], T2), 5);
      const firstEvent = v(ok(["rows"], T2), 5);
      expect(keptAnswer(ssr as never, firstEvent)).toBe(firstEvent);
      expect(keptAnswer(ssr as never, v(ok(["rows"], T1), 4))).toBe(ssr);
    });

    it("falls back to the time when one of the two has no version (an older server)", () => {
      expect(keptAnswer(v(ok(["new"], T2), 3) as never, ok(["old"], T1))).toMatchObject({ data: ["new"] });
      expect(keptAnswer(ok(["old"], T1) as never, v(ok(["new"], T2), 1))).toMatchObject({ data: ["new"] });
    });
  });
});
