import { describe, expect, it } from "vitest";
import type { Resilient } from "@/contract/answer";
import { refusedDegraded, refusedError } from "@/server/questdb/testing/answers";
import { keptAnswer } from "./kept-answer";

const T1 = "2026-11-28T10:00:00.000Z";
const T2 = "2026-11-28T10:05:00.000Z";
const ok = (data: string[], fetchedAt: string): Resilient<string[]> => ({ status: "ok", data, fetchedAt });
const degraded = (data: string[], cachedAt: string): Resilient<string[]> => refusedDegraded(data, cachedAt, "open");
const error: Resilient<string[]> = refusedError;

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
});
