import { expect, snapshot, test } from "./fixtures";

test("the health panel draws the last 15 minutes: latency while healthy, then the outage with its cause, ended once QuestDB is back", async ({
  page,
  request,
  stack,
}) => {
  await page.goto(stack.app.url);
  const timeline = page.getByTestId("health-timeline");
  await expect(timeline).toBeVisible();
  await expect(timeline.locator("canvas").first()).toBeVisible();
  await expect(timeline).toContainText("No outage in the last 15 minutes.");

  // The procedure behind it: latency measured while healthy, the breaker closed throughout.
  const healthy = await request.get(`${stack.app.url}/api/trpc/health.timeline`);
  const before = (await healthy.json()) as {
    result: { data: { latency: Array<{ count: number }>; breaker: Array<{ state: string }> } };
  };
  expect(before.result.data.latency.reduce((n, l) => n + l.count, 0)).toBeGreaterThan(0);
  expect(before.result.data.breaker.map((b) => b.state)).toEqual(["closed"]);

  await stack.questdb.kill();
  const outage = page.getByTestId("health-timeline-outage").first();
  await expect(outage).toBeVisible({ timeout: 30_000 });
  await expect(outage).toContainText(/Outage .*–now: .*connection refused/);
  await snapshot(page, "timeline-outage");

  await stack.questdb.restart();
  await expect(outage).not.toContainText("–now", { timeout: 30_000 });
  await expect(page.getByTestId("breaker-status")).toHaveAttribute("data-state", "closed");
});
