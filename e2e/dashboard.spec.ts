import { expect, sessionRows, snapshot, test } from "./fixtures";

test("healthy: the seeded sessions are shown, no banner, breaker closed, page live", async ({ page, stack }) => {
  await page.goto(stack.app.url);
  await expect(page.getByTestId("sessions-table")).toBeVisible();
  expect(await page.getByTestId("sessions-row").count()).toBeGreaterThanOrEqual(5);
  await expect(page.getByTestId("degraded-banner")).toHaveCount(0);
  await expect(page.getByTestId("error-state")).toHaveCount(0);
  await expect(page.getByTestId("breaker-status")).toHaveAttribute("data-state", "closed");
  await expect(page.getByTestId("breaker-status")).toContainText("Closed");
  await expect(page.getByTestId("page-status")).toHaveText("Live");
  await expect(page.getByTestId("candles-summary")).toContainText("candles");
  // The chart is drawn in the browser (lightweight-charts): the page hydrated and ran its code.
  await expect(page.locator(".chart-canvas canvas").first()).toBeVisible();
  await snapshot(page, "healthy");
});

test("first paint is server-rendered with the sessions, before any JavaScript runs", async ({ browser, stack }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  await context.addCookies(stack.auth?.cookies ?? []);
  const page = await context.newPage();
  await page.goto(stack.app.url);
  expect(await page.getByTestId("sessions-row").count()).toBeGreaterThanOrEqual(5);
  await context.close();
});

test("the page refreshes itself: a new session appears without a reload", async ({ page, stack }) => {
  await page.goto(stack.app.url);
  await expect(page.getByTestId("sessions-row").first()).toBeVisible();
  await page.evaluate(() => ((window as unknown as { noReload: boolean }).noReload = true));
  await stack.questdb.sql(
    `INSERT INTO session_events (ts, session_id, strategy, symbol, mode, status, pnl, started_at)
     VALUES (now(), 'sess-e2e-new', 'e2e-fresh-strategy', 'SOL-USD', 'paper', 'running', 1.5, now())`,
  );
  await expect(page.getByTestId("sessions-row").first()).toContainText("e2e-fresh-strategy");
  expect(await page.evaluate(() => (window as unknown as { noReload?: boolean }).noReload)).toBe(true);
  expect((await sessionRows(page)).length).toBeGreaterThanOrEqual(6);
});
