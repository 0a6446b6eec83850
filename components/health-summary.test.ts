import { describe, expect, it } from "vitest";
import { healthSummary, lastErrorWords } from "./health-summary";

const NOW = Date.parse("2026-11-28T21:15:07Z");
const ago = (ms: number) => new Date(NOW - ms).toISOString();

describe("healthSummary", () => {
  it("says what callers see: a frozen QuestDB with the breaker still closed is not answering", () => {
    const frozen = { status: "ok" as const, lastSuccessAt: ago(7_000), callersFailing: true, now: NOW };
    expect(healthSummary(frozen)).toEqual({ answering: false, words: "QuestDB not answering for 7 s" });
    expect(healthSummary({ ...frozen, callersFailing: false, status: "degraded", lastSuccessAt: null })).toEqual({
      answering: false,
      words: "QuestDB not answering",
    });
    expect(healthSummary({ ...frozen, callersFailing: false })).toEqual({
      answering: true,
      words: "QuestDB answering",
    });
  });
});

describe("lastErrorWords", () => {
  const facts = {
    lastError: "connection refused",
    lastErrorAt: null,
    answering: true,
    outages: [],
    timeZone: "UTC",
  };

  it("none, or the current error as it is", () => {
    expect(lastErrorWords({ ...facts, lastError: null })).toEqual({ history: false, words: "none" });
    expect(lastErrorWords({ ...facts, answering: false })).toEqual({ history: false, words: "connection refused" });
  });

  it("once QuestDB answers, history with a time: the server's if it gives one, else the last outage's end", () => {
    const outages = [{ from: ago(60_000), to: ago(30_000) }];
    expect(lastErrorWords({ ...facts, outages }).words).toBe(
      "Resolved (outage ended 21:14:37 UTC): connection refused",
    );
    expect(lastErrorWords({ ...facts, lastErrorAt: ago(45_000) }).words).toBe(
      "Resolved at 21:14:22 UTC: connection refused",
    );
    expect(lastErrorWords(facts)).toEqual({
      history: true,
      words: "Resolved (more than 15 min ago): connection refused",
    });
  });
});
