import { describe, expect, it } from "vitest";
import {
  type AnnouncerState,
  announcementFor,
  announcerReducer,
  INITIAL_ANNOUNCER,
  KEPT_ANNOUNCEMENTS,
  type ObservedPanel,
  type PanelCondition,
  panelCondition,
} from "./state-announcements";
import type { PanelQuery } from "./ResilientPanel";

const AS_OF = Date.parse("2026-11-28T14:02:41Z");
const STALE: PanelCondition = { kind: "stale", asOf: AS_OF, cause: "database_unavailable" };
const LIVE: PanelCondition = { kind: "live" };

function observe(state: AnnouncerState, ...panels: ObservedPanel[]): AnnouncerState {
  return announcerReducer(state, { type: "observed", panels, timeZone: "UTC" });
}
const said = (state: AnnouncerState) => state.said.map((a) => a.text);

describe("announcementFor", () => {
  it("a panel going stale: its name, the data's time in the zone, the cause in words", () => {
    expect(announcementFor("Sessions", "live", STALE, "UTC")).toBe(
      "Sessions: showing cached data from 14:02 UTC, QuestDB unreachable",
    );
    const app: PanelCondition = { kind: "stale", asOf: AS_OF, cause: "app_unreachable" };
    expect(announcementFor("Market", "live", app, "UTC")).toBe(
      "Market: showing cached data from 14:02 UTC, the dashboard server is unreachable",
    );
  });

  it("back: live again; failing: no data and why", () => {
    expect(announcementFor("Sessions", "stale", LIVE, "UTC")).toBe("Sessions live again");
    expect(announcementFor("Sessions", "error", LIVE, "UTC")).toBe("Sessions live again");
    expect(announcementFor("Sessions", "live", { kind: "error", message: "Failed: refused" }, "UTC")).toBe(
      "Sessions: no data to show. Failed: refused",
    );
  });

  it("nothing on the first look, on a first load, on the same state again, or while a selection switches", () => {
    expect(announcementFor("Sessions", undefined, STALE, "UTC")).toBeNull();
    expect(announcementFor("Sessions", "loading", LIVE, "UTC")).toBeNull();
    expect(announcementFor("Sessions", "stale", { ...STALE, asOf: AS_OF + 5_000 }, "UTC")).toBeNull();
    expect(announcementFor("Sessions", "live", { kind: "switching" }, "UTC")).toBeNull();
  });
});

describe("announcerReducer", () => {
  it("an outage: one sentence per panel going stale, one per panel back, none for the ticks between", () => {
    let state = observe(INITIAL_ANNOUNCER, { name: "Sessions", condition: LIVE }, { name: "Market", condition: LIVE });
    expect(said(state)).toEqual([]);
    state = observe(state, { name: "Sessions", condition: STALE }, { name: "Market", condition: LIVE });
    state = observe(state, { name: "Sessions", condition: STALE }, { name: "Market", condition: STALE });
    const during = observe(state, { name: "Sessions", condition: STALE }, { name: "Market", condition: STALE });
    expect(during).toBe(state);
    state = observe(state, { name: "Sessions", condition: LIVE }, { name: "Market", condition: LIVE });
    expect(said(state)).toEqual([
      "Sessions: showing cached data from 14:02 UTC, QuestDB unreachable",
      "Market: showing cached data from 14:02 UTC, QuestDB unreachable",
      "Sessions live again",
      "Market live again",
    ]);
    expect(new Set(state.said.map((a) => a.id)).size).toBe(4);
  });

  it("a selection switching is not heard: the state before it stays the one compared with", () => {
    let state = observe(INITIAL_ANNOUNCER, { name: "Market", condition: LIVE });
    state = observe(state, { name: "Market", condition: { kind: "switching" } });
    state = observe(state, { name: "Market", condition: LIVE });
    expect(said(state)).toEqual([]);
  });

  it("keeps the last few sentences only", () => {
    let state = observe(INITIAL_ANNOUNCER, { name: "Sessions", condition: LIVE });
    for (let i = 0; i < 5; i++) {
      state = observe(state, { name: "Sessions", condition: STALE });
      state = observe(state, { name: "Sessions", condition: LIVE });
    }
    expect(state.said).toHaveLength(KEPT_ANNOUNCEMENTS);
    expect(said(state).at(-1)).toBe("Sessions live again");
  });
});

describe("panelCondition", () => {
  const base: PanelQuery<string[]> = {
    data: undefined,
    error: null,
    isPending: false,
    isFetching: false,
    dataUpdatedAt: 10,
    errorUpdatedAt: 0,
    refetch: () => undefined,
  };
  const cachedAt = new Date(AS_OF).toISOString();
  const degraded = {
    status: "degraded" as const,
    data: ["a"],
    cachedAt,
    reason: "database_unavailable" as const,
    message: "Failed to get active sessions: connection refused",
    cause: "connection refused",
    breaker: "open" as const,
  };

  it("reads the query the way the panel shows it", () => {
    expect(panelCondition(base)).toEqual({ kind: "loading" });
    expect(panelCondition({ ...base, data: { status: "ok", data: [], fetchedAt: cachedAt } })).toEqual(LIVE);
    expect(panelCondition({ ...base, data: degraded })).toEqual(STALE);
    expect(panelCondition({ ...base, data: degraded, isPlaceholderData: true })).toEqual({ kind: "switching" });
  });

  it("the app unreachable: stale with what it has, an error without", () => {
    const unreachable = { ...base, error: new Error("fetch failed"), errorUpdatedAt: 20 };
    expect(panelCondition({ ...unreachable, data: { status: "ok", data: [], fetchedAt: cachedAt } })).toEqual({
      kind: "stale",
      asOf: AS_OF,
      cause: "app_unreachable",
    });
    expect(panelCondition(unreachable)).toEqual({
      kind: "error",
      message: "Cannot reach the dashboard server: fetch failed",
    });
  });
});
