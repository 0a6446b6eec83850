// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HealthPanel } from "./HealthPanel";

// The chart needs a real browser (canvas, matchMedia): the e2e suite draws it; here it is left out.
vi.mock("./HealthTimeline", () => ({ HealthTimeline: () => null }));

afterEach(cleanup);

const HEALTH = {
  status: "degraded",
  questdb: {
    breaker: "open",
    pool: { total: 2, idle: 1, waiting: 0 },
    lastSuccessAt: null,
    lastError: "Failed to get active sessions: connection refused (127.0.0.1:8812)",
    lastErrorAt: "2026-12-04T21:14:22.000Z",
  },
} as const;

describe("HealthPanel", () => {
  it("sits in the shared panel frame: a section labelled by its heading, its state as data-state", () => {
    render(<HealthPanel health={HEALTH} unreachableSince={null} lastDataAt={0} />);
    const section = screen.getByRole("region", { name: "Service health" });
    expect(section.className).toBe("panel panel-health");
    expect(section.getAttribute("data-state")).toBe("degraded");
    expect(screen.getByTestId("breaker-status").getAttribute("data-state")).toBe("open");
    expect(screen.getByTestId("health-last-error").textContent).toBe(`${HEALTH.questdb.lastError} (at 21:14:22 UTC)`);
    expect(screen.queryByTestId("health-app-unreachable-banner")).toBeNull();
  });

  it("the dashboard server unreachable: the frame's banner, and the breaker unknown", () => {
    render(<HealthPanel health={HEALTH} unreachableSince={Date.now()} lastDataAt={Date.now() - 5_000} />);
    expect(screen.getByRole("region", { name: "Service health" }).getAttribute("data-state")).toBe("unreachable");
    expect(screen.getByTestId("health-app-unreachable-banner").textContent).toContain("Dashboard server unreachable");
    expect(screen.getByTestId("breaker-status").getAttribute("data-state")).toBe("unknown");
  });
});
