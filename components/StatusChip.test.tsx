// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { chipWords, StatusChip, pageStatus } from "./StatusChip";

afterEach(cleanup);

describe("pageStatus", () => {
  it("the app unreachable comes before everything, then errors, degraded, loading", () => {
    expect(pageStatus(["ok", "unreachable", "error"])).toBe("unreachable");
    expect(pageStatus(["ok", "error", "degraded"])).toBe("unavailable");
    expect(pageStatus(["ok", "degraded", "loading"])).toBe("degraded");
    expect(pageStatus(["ok", undefined])).toBe("loading");
    expect(pageStatus(["ok", "ok"])).toBe("live");
  });
});

describe("StatusChip", () => {
  const chip = () => screen.getByTestId("page-status");

  it("Live, with how updates arrive", () => {
    render(<StatusChip status="live" transport="sse" />);
    expect(chip().textContent).toBe("Live");
    expect(chip().dataset.transport).toBe("sse");
    expect(chip().title).toBe("updates pushed by the server");
  });

  it("Reconnecting… while a live stream is re-established", () => {
    render(<StatusChip status="live" transport="sse" reconnecting />);
    expect(chip().textContent).toBe("Reconnecting…");
    expect(chip().dataset.state).toBe("reconnecting");
  });

  it("App unreachable — data as of the oldest data on screen, even while reconnecting", () => {
    const asOf = Date.parse("2026-11-28T21:15:07Z");
    render(<StatusChip status="unreachable" transport="sse" reconnecting dataAsOf={asOf} />);
    expect(chip().textContent).toBe("App unreachable — data as of 21:15:07 UTC");
    expect(chip().dataset.state).toBe("unreachable");
  });

  it("App unreachable with no data yet says only that", () => {
    render(<StatusChip status="unreachable" />);
    expect(chip().textContent).toBe("App unreachable");
  });
});

describe("chipWords", () => {
  const chip = () => screen.getByTestId("page-status");
  const facts = { reconnecting: false, dataAsOf: null, staleAsOf: null, now: Date.parse("2026-11-28T21:17:07Z") };

  it("degraded: the oldest stale panel's age, not a sentence", () => {
    const staleAsOf = Date.parse("2026-11-28T21:15:07Z");
    expect(chipWords({ ...facts, status: "degraded", staleAsOf, timeZone: "UTC" }).words).toBe("Cached · 2 min old");
    expect(chipWords({ ...facts, status: "degraded", timeZone: "UTC" }).words).toBe("Cached");
  });

  it("the time of the data in the chosen zone, named", () => {
    const dataAsOf = Date.parse("2026-11-28T21:15:07Z");
    const words = chipWords({ ...facts, status: "unreachable", dataAsOf, timeZone: "America/New_York" }).words;
    expect(words).toBe("App unreachable — data as of 16:15:07 GMT-5");
  });

  it("not a live region: its age ticks", () => {
    render(<StatusChip status="degraded" staleAsOf={Date.now() - 5_000} />);
    expect(chip().getAttribute("role")).toBeNull();
    expect(chip().getAttribute("aria-live")).toBeNull();
  });
});
