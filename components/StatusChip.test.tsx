// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { StatusChip, pageStatus } from "./StatusChip";
import { formatClock } from "./time";

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
    expect(chip().textContent).toBe(`App unreachable — data as of ${formatClock(new Date(asOf).toISOString())}`);
    expect(chip().dataset.state).toBe("unreachable");
  });

  it("App unreachable with no data yet says only that", () => {
    render(<StatusChip status="unreachable" />);
    expect(chip().textContent).toBe("App unreachable");
  });
});
