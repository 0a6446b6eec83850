// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Resilient } from "@/contract/answer";
import { useKeptQuery } from "./kept-answer";
import { type PanelQuery, ResilientPanel, type ResilientPanelProps } from "./ResilientPanel";
import { formatClock } from "./time";

const NOW = new Date("2026-11-27T14:05:27Z");
/** What the union says when QuestDB refuses connections. */
const REFUSED = {
  reason: "database_unavailable",
  message: "Failed to get active sessions: connection refused (127.0.0.1:8812)",
  cause: "connection refused (127.0.0.1:8812)",
} as const;

function query(data: Resilient<string[]> | undefined, extra: Partial<PanelQuery<string[]>> = {}): PanelQuery<string[]> {
  return {
    data,
    error: null,
    isPending: data === undefined,
    isFetching: false,
    dataUpdatedAt: data ? NOW.getTime() : 0,
    errorUpdatedAt: 0,
    refetch: vi.fn(),
    ...extra,
  };
}

type PanelProps = Partial<Omit<ResilientPanelProps<string[]>, "query" | "children">>;

/** A panel listing the rows of `q`, one `row` each. */
function panelElement(q: PanelQuery<string[]>, props: PanelProps = {}) {
  return (
    <ResilientPanel title="Active sessions" query={q} {...props}>
      {(rows) => (
        <ul>
          {rows.map((r) => (
            <li key={r} data-testid="row">
              {r}
            </li>
          ))}
        </ul>
      )}
    </ResilientPanel>
  );
}

function panel(q: PanelQuery<string[]>) {
  return render(panelElement(q));
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe("ResilientPanel", () => {
  it("first load shows a skeleton, not an empty table", () => {
    panel(query(undefined));
    expect(screen.getByLabelText("Loading Active sessions")).toBeTruthy();
    expect(screen.queryAllByTestId("row")).toHaveLength(0);
    expect(screen.queryByTestId("error-state")).toBeNull();
  });

  it("ok: shows the data and no banner", () => {
    panel(query({ status: "ok", data: ["a", "b"], fetchedAt: NOW.toISOString() }));
    expect(screen.getAllByTestId("row").map((r) => r.textContent)).toEqual(["a", "b"]);
    expect(screen.queryByTestId("degraded-banner")).toBeNull();
  });

  it("degraded: keeps the same data, marked stale, under a banner with the cached time, the cause and the retry countdown — all ticking", () => {
    const cachedAt = new Date(NOW.getTime() - 2 * 60_000).toISOString();
    const retryAt = new Date(NOW.getTime() + 12_000).toISOString();
    panel(
      query({
        status: "degraded",
        data: ["a", "b"],
        cachedAt,
        ...REFUSED,
        breaker: "open",
        retryAt,
      }),
    );
    const banner = screen.getByTestId("degraded-banner");
    // Not a live region: it ticks; the page's state announcer says the change once.
    expect(banner.getAttribute("role")).toBeNull();
    expect(banner.getAttribute("aria-live")).toBeNull();
    expect(banner.textContent).toContain(`Data as of ${formatClock(cachedAt, "UTC")} (2 min ago)`);
    expect(banner.textContent).toMatch(/ UTC \(2 min ago\)/);
    expect(banner.textContent).toContain("QuestDB unreachable: the dashboard cannot get fresh data");
    expect(banner.textContent).toContain("Technical cause: connection refused (127.0.0.1:8812)");
    expect(banner.textContent).toContain("next check in 12 s");
    expect(banner.querySelector("time")?.getAttribute("dateTime")).toBe(cachedAt);
    expect(screen.getAllByTestId("row").map((r) => r.textContent)).toEqual(["a", "b"]);
    expect(screen.getByText("Cached data, not current")).toBeTruthy();

    act(() => {
      vi.advanceTimersByTime(5_000);
    });
    expect(banner.textContent).toContain("next check in 7 s");
    act(() => {
      vi.advanceTimersByTime(60_000);
    });
    expect(banner.textContent).toContain("(3 min ago)");
    expect(banner.textContent).toContain("checking now");
  });

  it("degraded: the banner shows the answer's cause, whatever the message says, and the whole message on hover", () => {
    const message = "Could not read the sessions — connection refused (10.0.0.5:8812)";
    panel(
      query({
        status: "degraded",
        data: ["a"],
        cachedAt: NOW.toISOString(),
        reason: "database_unavailable",
        message,
        cause: "connection refused (10.0.0.5:8812)",
        breaker: "open",
      }),
    );
    const banner = screen.getByTestId("degraded-banner");
    expect(banner.textContent).toContain("QuestDB unreachable: the dashboard cannot get fresh data");
    expect(banner.textContent).toContain("Technical cause: connection refused (10.0.0.5:8812)");
    expect(banner.textContent).not.toContain("Could not read");
    expect(banner.querySelector(".banner-cause")?.getAttribute("title")).toBe(message);
  });

  it("labels each panel by its heading, with a heading id of its own when it has no id", () => {
    const ok: PanelQuery<string[]> = query({ status: "ok", data: [], fetchedAt: NOW.toISOString() });
    render(
      <>
        <ResilientPanel title="First" query={ok}>
          {() => null}
        </ResilientPanel>
        <ResilientPanel title="Second" query={ok} testIdPrefix="second-">
          {() => null}
        </ResilientPanel>
        <ResilientPanel title="Sessions" query={ok} id="sessions">
          {() => null}
        </ResilientPanel>
      </>,
    );
    const first = screen.getByRole("region", { name: "First" });
    const second = screen.getByRole("region", { name: "Second" });
    expect(first.getAttribute("aria-labelledby")).not.toBe(second.getAttribute("aria-labelledby"));
    expect(first.getAttribute("aria-labelledby")).not.toBe("-title");
    expect(screen.getByRole("region", { name: "Sessions" }).getAttribute("aria-labelledby")).toBe("sessions-title");
  });

  it("error with no data: the union's message and a Try again button that refetches", () => {
    const q = query({ status: "error", data: null, ...REFUSED, breaker: "closed" });
    panel(q);
    expect(screen.getByTestId("error-state").textContent).toBe(REFUSED.message);
    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(q.refetch).toHaveBeenCalledTimes(1);
  });

  it("the dashboard server itself unreachable: says so, and keeps the last data", () => {
    panel(
      query(
        { status: "ok", data: ["a"], fetchedAt: NOW.toISOString() },
        { error: new Error("Failed to fetch"), errorUpdatedAt: NOW.getTime() + 1 },
      ),
    );
    expect(screen.getByTestId("app-unreachable-banner").textContent).toContain("Dashboard server unreachable");
    expect(screen.getAllByTestId("row").map((r) => r.textContent)).toEqual(["a"]);
    expect(screen.queryByTestId("degraded-banner")).toBeNull();
  });

  it("the dashboard server unreachable on first load: an error state naming it", () => {
    panel(query(undefined, { error: new Error("Failed to fetch"), errorUpdatedAt: NOW.getTime() }));
    expect(screen.getByTestId("error-state").textContent).toBe("Cannot reach the dashboard server: Failed to fetch");
  });

  it("a slow query and a busy dashboard say so in the banner, not that QuestDB is down", () => {
    const cachedAt = NOW.toISOString();
    const slow = render(
      panelElement(
        query({
          status: "degraded",
          data: ["a"],
          cachedAt,
          reason: "query_slow",
          message:
            "Failed to get 1h candles for BTC-USD: query slow: no answer within 2000 ms while QuestDB answers other queries",
          cause: "query slow: no answer within 2000 ms while QuestDB answers other queries",
          breaker: "closed",
        }),
        { title: "Candles" },
      ),
    );
    const banner = screen.getByTestId("degraded-banner");
    expect(banner.textContent).toContain("Data as of");
    expect(banner.textContent).toContain("Slow query: QuestDB answers, but not this query in time");
    expect(banner.textContent).toContain("Technical cause: query slow: no answer within 2000 ms");
    expect(banner.textContent).not.toContain("QuestDB unreachable");
    expect(banner.getAttribute("data-reason")).toBe("query_slow");
    slow.unmount();
    panel(
      query({
        status: "degraded",
        data: ["a"],
        cachedAt,
        reason: "busy",
        message: "Failed to get active sessions: no free connection within 2000 ms",
        cause: "no free connection within 2000 ms",
        breaker: "closed",
      }),
    );
    expect(screen.getByTestId("degraded-banner").textContent).toContain(
      "Dashboard busy: too many requests are waitingTechnical cause: no free connection within 2000 ms",
    );
  });

  it("leaves degraded mode by itself when an ok answer arrives", () => {
    const degraded: Resilient<string[]> = {
      status: "degraded",
      data: ["old"],
      cachedAt: NOW.toISOString(),
      reason: "database_unavailable",
      message: "Failed to get active sessions: connection refused",
      cause: "connection refused",
      breaker: "open",
    };
    const { rerender } = panel(query(degraded));
    expect(screen.getByTestId("degraded-banner")).toBeTruthy();
    rerender(
      <ResilientPanel
        title="Active sessions"
        query={query({ status: "ok", data: ["new"], fetchedAt: NOW.toISOString() })}
      >
        {(rows) => <span data-testid="row">{rows.join(",")}</span>}
      </ResilientPanel>,
    );
    expect(screen.queryByTestId("degraded-banner")).toBeNull();
    expect(screen.getByTestId("row").textContent).toBe("new");
  });
});

/** The panel of `q` as useLiveAnswer feeds it: the answer kept (useKeptQuery) for `inputKey`. */
function KeptPanel({ q, inputKey = "", ...props }: { q: PanelQuery<string[]>; inputKey?: string } & PanelProps) {
  return panelElement(useKeptQuery(q, inputKey), props);
}

describe("rows already on screen", () => {
  it("stay when the next answer is an error (another instance with nothing cached), under the older time", () => {
    const cachedAt = new Date(NOW.getTime() - 60_000).toISOString();
    const degraded: Resilient<string[]> = { status: "degraded", data: ["kept"], cachedAt, ...REFUSED, breaker: "open" };
    const view = render(<KeptPanel q={query(degraded)} />);
    expect(screen.getAllByTestId("row").map((r) => r.textContent)).toEqual(["kept"]);
    view.rerender(<KeptPanel q={query({ status: "error", data: null, ...REFUSED, breaker: "closed" })} />);
    expect(screen.getAllByTestId("row").map((r) => r.textContent)).toEqual(["kept"]);
    expect(screen.queryByTestId("error-state")).toBeNull();
    expect(screen.getByTestId("degraded-banner").textContent).toContain("(1 min ago)");
  });

  it("the previous input's data, shown while the new input loads, is marked and never kept as the new input's", () => {
    const btc: Resilient<string[]> = { status: "ok", data: ["btc-candle"], fetchedAt: NOW.toISOString() };
    const market = (q: PanelQuery<string[]>, inputKey: string) => (
      <KeptPanel
        q={q}
        inputKey={inputKey}
        title="Market"
        placeholderLabel="Loading ETH-USD 1m… showing the previous chart"
      />
    );
    const { rerender, container } = render(market(query(btc), "BTC-USD"));
    expect(screen.queryByTestId("placeholder")).toBeNull();

    rerender(market(query(btc, { isPlaceholderData: true }), "ETH-USD"));
    expect(screen.getByTestId("placeholder").textContent).toBe("Loading ETH-USD 1m… showing the previous chart");
    expect(container.querySelector(".panel-data")?.className).toContain("stale");
    expect(screen.getAllByTestId("row").map((r) => r.textContent)).toEqual(["btc-candle"]);

    // The new symbol's answer is an error: BTC's rows must not be kept as ETH's.
    rerender(market(query({ status: "error", data: null, ...REFUSED, breaker: "open" }), "ETH-USD"));
    expect(screen.queryAllByTestId("row")).toHaveLength(0);
    expect(screen.getByTestId("error-state").textContent).toContain(REFUSED.message);
  });
});
