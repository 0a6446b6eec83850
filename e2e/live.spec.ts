import type { Page } from "@playwright/test";
import { expect, sessionRows, snapshot, test, type Stack } from "./fixtures";

/**
 * Push, not poll: the page's panels subscribe over server-sent events, say so, fall back to
 * polling when they cannot stream, pause while hidden, and keep eight tabs live at once.
 */

const SUBSCRIPTION = /\/api\/trpc\/(sessions\.onActive|market\.onCandles)/;
const POLL = /\/api\/trpc\/[^?]*(sessions\.active|market\.candles)/;

/** Records every text the status chip shows, from now on, inside the page. */
async function recordChip(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { chipTexts: string[] };
    w.chipTexts = [];
    const chip = () => document.querySelector("[data-testid=page-status]");
    const note = () => {
      const text = chip()?.textContent?.trim() ?? "";
      if (w.chipTexts.at(-1) !== text) w.chipTexts.push(text);
    };
    note();
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}
const chipTexts = (page: Page) => page.evaluate(() => (window as unknown as { chipTexts: string[] }).chipTexts);

/** Counts the page's requests matching `pattern` from now on. */
function countRequests(page: Page, pattern: RegExp): () => number {
  let count = 0;
  page.on("request", (request) => {
    if (pattern.test(request.url())) count += 1;
  });
  return () => count;
}

async function addSession(stack: Stack, strategy: string): Promise<void> {
  await stack.questdb.sql(
    `INSERT INTO session_events (ts, session_id, strategy, symbol, mode, status, pnl, started_at)
     VALUES (now(), $1, $2, 'SOL-USD', 'paper', 'running', 1.5, now())`,
    [`sess-${strategy}`, strategy],
  );
}

async function loadLive(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expect(page.getByTestId("sessions-row").first()).toBeVisible();
  await expect(page.getByTestId("page-status")).toHaveText("Live");
}

/** Loads the page, checks it streams over SSE, and returns the rows it shows. */
async function loadStreaming(page: Page, url: string): Promise<string[]> {
  await loadLive(page, url);
  await expect(page.getByTestId("page-status")).toHaveAttribute("data-transport", "sse");
  return sessionRows(page);
}

test("the panels are pushed changes over SSE: Live, no polling while streaming, a new session arrives", async ({
  page,
  stack,
}) => {
  const polls = countRequests(page, POLL);
  const streams: string[] = [];
  page.on("request", (request) => {
    if (SUBSCRIPTION.test(request.url())) streams.push(request.url());
  });
  await loadLive(page, stack.app.url);
  await expect(page.getByTestId("page-status")).toHaveAttribute("data-transport", "sse");
  expect(streams.some((url) => url.includes("sessions.onActive"))).toBe(true);
  expect(streams.some((url) => url.includes("market.onCandles"))).toBe(true);

  const pollsBefore = polls();
  await addSession(stack, "pushed-strategy");
  await expect(page.getByTestId("sessions-row").first()).toContainText("pushed-strategy");
  // Streaming, the data panels did not poll for it.
  expect(polls()).toBe(pollsBefore);
});

test("QuestDB killed with the tab streaming: the degraded banner is pushed, rows kept, no polling; restarted → pushed back to Live", async ({
  page,
  stack,
}) => {
  const before = await loadStreaming(page, stack.app.url);
  const polls = countRequests(page, POLL);
  await page.evaluate(() => ((window as unknown as { noReload: boolean }).noReload = true));

  await stack.questdb.kill();
  await expect(page.getByTestId("degraded-banner")).toContainText("Data as of", { timeout: 30_000 });
  expect(await sessionRows(page)).toEqual(before);
  await expect(page.getByTestId("page-status")).toHaveAttribute("data-transport", "sse");
  await stack.questdb.restart();
  await expect(page.getByTestId("degraded-banner")).toHaveCount(0, { timeout: 30_000 });
  await expect(page.getByTestId("page-status")).toHaveText("Live");
  expect(polls(), "the outage and the recovery arrived over the stream").toBe(0);
  expect(await page.evaluate(() => (window as unknown as { noReload?: boolean }).noReload)).toBe(true);
});

test("the app dies mid-stream: App unreachable with the data's time, rows kept; back → Live over SSE by itself, resuming the stream", async ({
  page,
  stack,
}) => {
  const before = await loadStreaming(page, stack.app.url);
  await recordChip(page);
  const resumed: string[] = [];
  page.on("request", (request) => {
    // tRPC resumes with the id in the input; the browser's own EventSource retry, in Last-Event-ID.
    if (!SUBSCRIPTION.test(request.url())) return;
    void request
      .allHeaders()
      .then((headers) => resumed.push(`${decodeURIComponent(request.url())} ${headers["last-event-id"] ?? ""}`));
  });

  await stack.stopApp();
  await expect(page.getByTestId("page-status")).toHaveText(/^App unreachable — data as of \d{2}:\d{2}:\d{2} UTC$/, {
    timeout: 30_000,
  });
  expect(await sessionRows(page)).toEqual(before);
  await snapshot(page, "app-unreachable-chip");

  await stack.startApp();
  await expect(page.getByTestId("page-status")).toHaveText("Live", { timeout: 30_000 });
  await expect(page.getByTestId("page-status")).toHaveAttribute("data-transport", "sse", { timeout: 30_000 });
  // The stream resumed from the last event it had seen.
  expect(
    resumed.some((url) => /("lastEventId":"[0-9a-f]+\.\d+"| [0-9a-f]+\.\d+$)/.test(url)),
    resumed.join("\n"),
  ).toBe(true);
  await addSession(stack, "after-restart-strategy");
  await expect(page.getByTestId("sessions-row").first()).toContainText("after-restart-strategy");
  // Never a blank or a false state on the way: live, unreachable (with the time), live again.
  for (const text of await chipTexts(page))
    expect(text).toMatch(/^(Live|Reconnecting…|App unreachable — data as of .+)$/);
});

test("streams that never open (a proxy that buffers them): the page polls meanwhile, stays Live, then settles on polling", async ({
  page,
  stack,
}) => {
  await page.route(SUBSCRIPTION, (route) => route.abort("connectionrefused"));
  await loadLive(page, stack.app.url);
  await addSession(stack, "polled-strategy");
  await expect(page.getByTestId("sessions-row").first()).toContainText("polled-strategy");
  // After SSE_GIVE_UP_AFTER_MS (15 s) of failing streams the tab stops trying for a while.
  await expect(page.getByTestId("page-status")).toHaveAttribute("data-transport", "polling", { timeout: 30_000 });
  await expect(page.getByTestId("page-status")).toHaveText("Live");
});

test.describe("eight tabs", () => {
  // One operator's eight tabs poll from one address; the per-client limit is not under test here.
  test.use({ appEnv: { RATE_LIMIT_PER_MINUTE: "3000" } });

  test("eight tabs open at once all stay live: at most two stream, the others poll, every one shows a new session", async ({
    context,
    stack,
  }) => {
    const tabs: Page[] = [];
    for (let i = 0; i < 8; i++) {
      const tab = await context.newPage();
      await loadLive(tab, stack.app.url);
      tabs.push(tab);
    }
    const transports = await Promise.all(
      tabs.map((tab) => tab.getByTestId("page-status").getAttribute("data-transport")),
    );
    expect(transports.filter((t) => t === "sse").length).toBeGreaterThanOrEqual(1);
    expect(transports.filter((t) => t === "sse").length).toBeLessThanOrEqual(2);
    expect(transports.every((t) => t === "sse" || t === "polling")).toBe(true);

    await addSession(stack, "eight-tabs-strategy");
    for (const tab of tabs) {
      await expect(tab.getByTestId("sessions-row").first()).toContainText("eight-tabs-strategy", { timeout: 20_000 });
      await expect(tab.getByTestId("page-status")).toHaveText("Live");
    }
  });
});

test("a hidden tab asks for nothing, and catches up when shown", async ({ page, stack }) => {
  await loadLive(page, stack.app.url);
  const setVisibility = (state: "hidden" | "visible") =>
    page.evaluate((value) => {
      Object.defineProperty(document, "visibilityState", { value, configurable: true });
      Object.defineProperty(document, "hidden", { value: value === "hidden", configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
    }, state);
  await setVisibility("hidden");
  await expect(page.getByTestId("page-status")).toHaveAttribute("data-transport", "paused");
  const requests = countRequests(page, /\/api\/trpc\//);
  await addSession(stack, "while-hidden-strategy");
  await page.waitForTimeout(5_000); // five poll periods: a paused tab must have asked nothing
  expect(requests()).toBe(0);
  await expect(page.getByTestId("sessions-row").first()).not.toContainText("while-hidden-strategy");

  await setVisibility("visible");
  await expect(page.getByTestId("sessions-row").first()).toContainText("while-hidden-strategy");
  await expect(page.getByTestId("page-status")).toHaveAttribute("data-transport", "sse");
});

test("switching the symbol marks the previous symbol's chart as such until the new one arrives", async ({
  page,
  stack,
}) => {
  await loadLive(page, stack.app.url);
  // Hold the new symbol's answers back, so the moment in between can be looked at.
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(/\/api\/trpc\/.*(market\.candles|market\.onCandles).*ETH-USD/, async (route) => {
    await held;
    await route.continue();
  });
  await page.getByTestId("market-symbol").selectOption("ETH-USD");
  await expect(page.getByRole("heading", { name: "Market · ETH-USD · 1m" })).toBeVisible();
  const placeholder = page.getByTestId("market-placeholder");
  await expect(placeholder).toHaveText("Loading ETH-USD 1m… showing the previous chart");
  await expect(page.locator("#market .panel-data")).toHaveClass(/stale/);
  await snapshot(page, "symbol-switch-placeholder");

  release();
  await expect(placeholder).toHaveCount(0, { timeout: 20_000 });
  await expect(page.locator("#market .panel-data")).not.toHaveClass(/stale/);
});
