import type { Page } from "@playwright/test";
import { expect, test } from "./fleet-fixtures";

/**
 * A later viewer on a quiet, healthy dashboard (issue 19, item 1): with one operator's page live
 * for 5 s and no new data written, a second operator opens the page — on the same instance, or on
 * the other instance of a two-instance fleet sharing Redis. The topic's first pushed event is then
 * older than the answer the page was rendered with; neither page may show a degraded banner
 * ("QuestDB unreachable") at any moment, as QuestDB is healthy throughout.
 */

test.use({ instanceCount: 2, withRedis: true });

async function openLive(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expect(page.getByTestId("sessions-row").first()).toBeVisible();
  await expect(page.getByTestId("page-status")).toHaveText("Live");
}

/** The banners each page shows, sampled every 250 ms for `durationMs`: one line per sighting. */
async function bannerSightings(pages: Record<string, Page>, durationMs: number): Promise<string[]> {
  const sightings: string[] = [];
  const until = Date.now() + durationMs;
  while (Date.now() < until) {
    for (const [name, page] of Object.entries(pages)) {
      const banners = page.getByTestId("degraded-banner");
      if ((await banners.count()) > 0) {
        const text = (await banners.first().textContent())?.trim().slice(0, 160);
        sightings.push(`${new Date().toISOString()} ${name}: ${text}`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return sightings;
}

for (const where of ["the same instance", "the other instance"] as const) {
  test(`a second page opened later on ${where}, QuestDB healthy and quiet: no degraded banner on either page, ever`, async ({
    page,
    browser,
    fleet,
  }) => {
    const [first, second] = fleet.instances;
    await openLive(page, first!.url);
    // The first page is live for 5 s; nothing is written meanwhile.
    expect(await bannerSightings({ first: page }, 5_000)).toEqual([]);

    // Another operator: a browser context of its own.
    const otherOperator = await browser.newContext();
    const later = await otherOperator.newPage();
    await openLive(later, (where === "the same instance" ? first : second)!.url);
    const sightings = await bannerSightings({ first: page, later }, 10_000);
    expect(sightings, "a degraded banner while QuestDB was healthy").toEqual([]);
    await otherOperator.close();
  });
}
