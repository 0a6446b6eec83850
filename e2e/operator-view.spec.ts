import type { ConsoleMessage, Page } from "@playwright/test";
import { signInAtProvider } from "../harness/oidc-provider-process";
import { announcements, expectBothPanelsLive, expectBothPanelsStale, recordAnnouncements } from "./a11y";
import { expect, test } from "./fixtures";

/**
 * The operator's view (issue 21): announcements that mean something, one zone on every load, a
 * page that reflows to a phone, and a URL that is the chart's state, through sign-in too.
 */

async function loadHealthy(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expect(page.getByTestId("sessions-row").first()).toBeVisible();
  await expect(page.getByTestId("page-status")).toHaveText("Live");
}

/** Console errors that mean React found the server's HTML different from its own first render. */
function hydrationErrors(page: Page): string[] {
  const found: string[] = [];
  page.on("console", (message: ConsoleMessage) => {
    if (message.type() === "error" && /hydrat|#418|#423|#425|did not match/i.test(message.text()))
      found.push(message.text());
  });
  page.on("pageerror", (error) => {
    if (/hydrat|#418|#423|#425/i.test(error.message)) found.push(error.message);
  });
  return found;
}

test("an outage is announced once per panel going stale and once per panel live again — never the clock", async ({
  page,
  stack,
}) => {
  await loadHealthy(page, stack.app.url);
  await recordAnnouncements(page);
  await stack.questdb.kill();
  await expectBothPanelsStale(page);
  // Long enough for every ticking age and countdown on the page to change several times.
  await page.waitForTimeout(8_000);
  const during = await announcements(page);
  expect(during.announced).toHaveLength(2);
  expect(during.announced).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^Sessions: showing cached data from \d{2}:\d{2} UTC, QuestDB unreachable$/),
      expect.stringMatching(/^Market BTC-USD 1m: showing cached data from \d{2}:\d{2} UTC, QuestDB unreachable$/),
    ]),
  );

  await stack.questdb.restart();
  await expectBothPanelsLive(page);
  await page.waitForTimeout(5_000);
  const after = await announcements(page);
  expect(after.announced.slice(2).sort()).toEqual(["Market BTC-USD 1m live again", "Sessions live again"]);
  // Only whole sentences were added (and old ones dropped): no text inside the region changed in place.
  expect(after.announced).toHaveLength(4);
});

test("a fresh load while QuestDB is down shows the zone and time the running page shows, with no hydration mismatch", async ({
  context,
  page,
  request,
  stack,
}) => {
  await loadHealthy(page, stack.app.url);
  await stack.questdb.kill();
  await expectBothPanelsStale(page);
  const running = await page.getByTestId("degraded-banner").locator("time").textContent();
  expect(running).toMatch(/^\d{2}:\d{2}:\d{2} UTC$/);

  // The server's HTML, before any script: the same time, in the same zone. Asked until it is served
  // degraded: within the first second after the kill the last answer is still reused as fresh (ok).
  const servedTime = async () => {
    const html = await (await request.get(stack.app.url)).text();
    return html.match(/data-testid="degraded-banner"[\s\S]*?<time[^>]*>([^<]+)<\/time>/)?.[1];
  };
  await expect.poll(servedTime, { timeout: 10_000 }).toBe(running);

  const fresh = await context.newPage();
  const mismatches = hydrationErrors(fresh);
  await fresh.goto(stack.app.url);
  await expectBothPanelsStale(fresh);
  await expect(fresh.getByTestId("degraded-banner").locator("time")).toHaveText(running!);
  await expect(fresh.getByTestId("health-last-success")).toContainText(" UTC");
  await fresh.waitForTimeout(2_000);
  expect(mismatches).toEqual([]);
});

test.describe("in New York", () => {
  test.use({ timezoneId: "America/New_York" });

  test("times stay in UTC until the operator picks local time, which is kept across loads", async ({ page, stack }) => {
    const mismatches = hydrationErrors(page);
    await loadHealthy(page, stack.app.url);
    await expect(page.getByTestId("health-last-success")).toContainText(" UTC");
    await page.getByTestId("time-zone-toggle").selectOption("local");
    await expect(page.getByTestId("health-last-success")).toContainText(/GMT-[45]/);
    await page.reload();
    await expect(page.getByTestId("time-zone-toggle")).toHaveValue("local");
    await expect(page.getByTestId("health-last-success")).toContainText(/GMT-[45]/);
    expect(mismatches).toEqual([]);
  });
});

/** The page is no wider than the window: nothing to scroll sideways (the elements that stick out named). */
async function expectNoHorizontalScroll(page: Page): Promise<void> {
  const { scrollWidth, clientWidth, wide } = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll("body *")]
      .filter((el) => el.getBoundingClientRect().right > width + 0.5)
      .slice(0, 8)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className} → ${Math.round(el.getBoundingClientRect().right)}px`);
    return { scrollWidth: document.documentElement.scrollWidth, clientWidth: width, wide };
  });
  expect(scrollWidth, `page width at ${clientWidth} px; wider: ${wide.join("; ")}`).toBeLessThanOrEqual(clientWidth);
}

test.describe("at 320 px", () => {
  test.use({ viewport: { width: 320, height: 640 } });

  test("no horizontal scroll, healthy and degraded; every session field on screen", async ({ page, stack }) => {
    await loadHealthy(page, stack.app.url);
    await expectNoHorizontalScroll(page);
    const runningSince = page.getByTestId("sessions-row").first().locator("td").last();
    const box = await runningSince.boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(320);
    await stack.questdb.kill();
    await expectBothPanelsStale(page);
    await expectNoHorizontalScroll(page);
  });
});

test("the URL is the chart's state: ?symbol=ETH-USD&interval=5m opens on that chart, and a change is written back", async ({
  page,
  stack,
}) => {
  await page.goto(`${stack.app.url}/?symbol=ETH-USD&interval=5m`);
  await expect(page.getByRole("heading", { name: "Market · ETH-USD · 5m" })).toBeVisible();
  await expect(page.getByTestId("market-symbol")).toHaveValue("ETH-USD");
  await expect(page.getByTestId("market-interval")).toHaveValue("5m");
  await expect(page.getByTestId("candles-summary")).toContainText("candles");
  await page.getByTestId("market-interval").selectOption("1h");
  await expect(page).toHaveURL(`${stack.app.url}/?symbol=ETH-USD&interval=1h`);
  await page.reload();
  await expect(page.getByRole("heading", { name: "Market · ETH-USD · 1h" })).toBeVisible();
});

test.describe("signed out", () => {
  test.use({ signedInAs: null });

  test("?symbol=ETH-USD&interval=5m survives sign-in", async ({ page, stack }) => {
    await page.goto(`${stack.app.url}/?symbol=ETH-USD&interval=5m`);
    await signInAtProvider(page, stack.auth!.provider.users.operator);
    await expect(page).toHaveURL(`${stack.app.url}/?symbol=ETH-USD&interval=5m`);
    await expect(page.getByRole("heading", { name: "Market · ETH-USD · 5m" })).toBeVisible();
  });
});
