import type { Page } from "@playwright/test";
import { expectBothPanelsLive, expectBothPanelsStale, expectNoAxeViolations } from "./a11y";
import { expect, type Stack, test } from "./fixtures";

/**
 * axe-core (WCAG 2.2 A/AA) on the page in each state an operator meets: healthy, QuestDB killed,
 * a fresh load while it is down, recovered, a phone's width and 200 % zoom. Each state is a test
 * with 0 violations; its screenshot and scan are attached to the Playwright report.
 */

async function loadHealthy(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expect(page.getByTestId("sessions-row").first()).toBeVisible();
  await expect(page.getByTestId("page-status")).toHaveText("Live");
  await expect(page.locator(".candles-canvas canvas").first()).toBeVisible();
}

/** A healthy page, then QuestDB killed: both data panels stale. */
async function loadThenKill(page: Page, stack: Stack): Promise<void> {
  await loadHealthy(page, stack.app.url);
  await stack.questdb.kill();
  await expectBothPanelsStale(page);
}

/** Opens both charts' tables, so the scan covers them too. */
async function showChartTables(page: Page): Promise<void> {
  for (const toggle of await page.getByTestId("chart-table-toggle").all()) await toggle.click();
  await expect(page.getByTestId("candles-table")).toBeVisible();
}

test("healthy: 0 violations, chart tables open", async ({ page, stack }, testInfo) => {
  await loadHealthy(page, stack.app.url);
  await showChartTables(page);
  await expectNoAxeViolations(page, testInfo, "healthy");
});

test("degraded after QuestDB is killed: 0 violations", async ({ page, stack }, testInfo) => {
  await loadThenKill(page, stack);
  await showChartTables(page);
  await expectNoAxeViolations(page, testInfo, "degraded");
});

test("a fresh load while QuestDB is down: 0 violations", async ({ context, page, stack }, testInfo) => {
  await loadThenKill(page, stack);
  const fresh = await context.newPage();
  await fresh.goto(stack.app.url);
  await expectBothPanelsStale(fresh);
  await expectNoAxeViolations(fresh, testInfo, "fresh-load-while-down");
});

test("recovered: 0 violations", async ({ page, stack }, testInfo) => {
  await loadThenKill(page, stack);
  await stack.questdb.restart();
  await expectBothPanelsLive(page);
  await expect(page.getByTestId("health-last-error")).toContainText("Resolved", { timeout: 30_000 });
  await expectNoAxeViolations(page, testInfo, "recovered");
});

test.describe("narrow", () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test("390 px, degraded: 0 violations", async ({ page, stack }, testInfo) => {
    await loadThenKill(page, stack);
    await expectNoAxeViolations(page, testInfo, "390px-degraded");
  });
});

test.describe("zoomed", () => {
  // 200 % zoom of a 1280 × 720 window: half the CSS pixels, each drawn twice as large.
  test.use({ viewport: { width: 640, height: 360 }, deviceScaleFactor: 2 });

  test("200 % zoom, degraded: 0 violations", async ({ page, stack }, testInfo) => {
    await loadThenKill(page, stack);
    await expectNoAxeViolations(page, testInfo, "200pct-zoom-degraded");
  });
});
