import AxeBuilder from "@axe-core/playwright";
import { expect, type Page, type TestInfo } from "@playwright/test";

/**
 * The page's accessibility checks shared by the specs: an axe-core scan against WCAG 2.0, 2.1 and
 * 2.2 A and AA, with the state's screenshot and the scan's result attached to the report, and the
 * readers of the page's one live region (the state announcer).
 */

export const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/** Scans the page as it is now; the screenshot and the violations go to the report; none may be found. */
export async function expectNoAxeViolations(page: Page, testInfo: TestInfo, state: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  const screenshot = testInfo.outputPath(`${state}.png`);
  await page.screenshot({ path: screenshot, fullPage: true });
  await testInfo.attach(`${state}.png`, { path: screenshot, contentType: "image/png" });
  await testInfo.attach(`axe-${state}.json`, {
    body: JSON.stringify({ violations: results.violations, passes: results.passes.length }, null, 2),
    contentType: "application/json",
  });
  const found = results.violations.map(
    (v) => `${v.id} (${v.impact}) ×${v.nodes.length}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
  );
  console.log(`[axe] ${state}: ${results.violations.length} violations, ${results.passes.length} rules passed`);
  expect(found, `axe violations in state "${state}"`).toEqual([]);
}

/** Starts recording every sentence added to the state announcer (read back by announcements()). */
export async function recordAnnouncements(page: Page): Promise<void> {
  await page.getByTestId("state-announcer").waitFor({ state: "attached" });
  await page.evaluate(() => {
    const region = document.querySelector("[data-testid=state-announcer]");
    const w = window as unknown as { announced: string[]; regionMutations: number };
    w.announced = [];
    w.regionMutations = 0;
    new MutationObserver((records) => {
      for (const record of records) {
        w.regionMutations++;
        for (const node of record.addedNodes) w.announced.push(node.textContent ?? "");
      }
    }).observe(region!, { childList: true, subtree: true, characterData: true });
  });
}

export async function announcements(page: Page): Promise<{ announced: string[]; regionMutations: number }> {
  return page.evaluate(() => {
    const w = window as unknown as { announced: string[]; regionMutations: number };
    return { announced: w.announced, regionMutations: w.regionMutations };
  });
}

/** Waits until both data panels show their cached data under a banner (QuestDB down). */
export async function expectBothPanelsStale(page: Page): Promise<void> {
  await expect(page.getByTestId("degraded-banner")).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("market-degraded-banner")).toBeVisible({ timeout: 30_000 });
}

export async function expectBothPanelsLive(page: Page): Promise<void> {
  await expect(page.getByTestId("degraded-banner")).toHaveCount(0, { timeout: 30_000 });
  await expect(page.getByTestId("market-degraded-banner")).toHaveCount(0, { timeout: 30_000 });
  await expect(page.getByTestId("page-status")).toHaveText("Live", { timeout: 30_000 });
}
