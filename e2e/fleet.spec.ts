import { readFileSync } from "node:fs";
import type { APIRequestContext, Page } from "@playwright/test";
import { sessionRows } from "./fixtures";
import {
  askHealth,
  askSessions,
  expect,
  recordPage,
  recordedSamples,
  samplingProblems,
  serverErrorsAtBalancer,
  test,
  upstreamsOfSessionsRequests,
  type Fleet,
  type SessionsAnswer,
} from "./fleet-fixtures";

/**
 * Fleet mode for real: app instances behind nginx share last-known-good answers and the breaker
 * through Redis. What the operator sees must not depend on which instance answers a poll, on an
 * instance restarting, nor on Redis going away and coming back.
 */

// A QuestDB, a Redis, three `next start`s, nginx and a browser on a 2-core machine.
test.describe.configure({ timeout: 240_000 });

/** Makes the page poll, as behind a proxy that buffers its streams: every poll may reach another instance. */
async function withoutStreams(page: Page) {
  await page.route(/\/api\/trpc\/(sessions\.onActive|market\.onCandles)/, (route) => route.abort("connectionrefused"));
}

async function loadLive(page: Page, url: string) {
  await page.goto(url);
  await expect(page.getByTestId("sessions-row").first()).toBeVisible();
  await expect(page.getByTestId("page-status")).toHaveText("Live");
}

function cachedAtOf(answer: SessionsAnswer): string | undefined {
  return answer.status === "degraded" ? answer.cachedAt : undefined;
}

/** Waits until every instance's /api/health says Redis is `state`: each instance notices by itself. */
async function waitForRedisHealth(request: APIRequestContext, fleet: Fleet, state: "ok" | "unavailable") {
  for (const instance of fleet.instances) {
    await expect.poll(async () => (await askHealth(request, instance.url)).redis, { timeout: 30_000 }).toBe(state);
  }
}

test.describe("with Redis, three instances", () => {
  test.use({ instanceCount: 3 });

  test("outage with polls spread over the instances: rows stay, never an error, 'Data as of' never goes back; every answer degraded with one cachedAt", async ({
    page,
    request,
    fleet,
  }) => {
    await withoutStreams(page);
    await loadLive(page, fleet.balancer.url);
    const before = await sessionRows(page);
    const servedBefore = upstreamsOfSessionsRequests(fleet.balancer).length;

    const traffic = fleet.backgroundTraffic();
    await recordPage(page);
    await fleet.questdb.kill();
    await page.waitForTimeout(15_000);
    const samples = await recordedSamples(page);
    expect(
      (await traffic.stop()).filter((status) => status !== 200),
      "the other client's /api/health through the balancer",
    ).toEqual([]);

    expect(samplingProblems(samples, { bannerStays: true })).toEqual([]);
    const banner = page.getByTestId("degraded-banner");
    await expect(banner).toBeVisible();
    await expect(banner).toContainText("Data as of");
    const pageAsOf = await banner.locator("time").getAttribute("datetime");
    expect(pageAsOf).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await sessionRows(page)).toEqual(before);
    // The page's polls were answered by different instances, not stuck on one.
    const pollPorts = upstreamsOfSessionsRequests(fleet.balancer)
      .slice(servedBefore)
      .map((r) => r.port);
    expect(
      new Set(pollPorts).size,
      `instances that answered the page's polls: ${pollPorts.join(", ")}`,
    ).toBeGreaterThanOrEqual(2);

    const servedBeforeAsks = upstreamsOfSessionsRequests(fleet.balancer).length;
    const answers: SessionsAnswer[] = [];
    for (let i = 0; i < 20; i++) answers.push(await askSessions(request, fleet.balancer.url));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill("degraded"));
    expect([...new Set(answers.map(cachedAtOf))]).toEqual([pageAsOf]);
    const askPorts = new Set(
      upstreamsOfSessionsRequests(fleet.balancer)
        .slice(servedBeforeAsks)
        .map((r) => r.port),
    );
    expect(askPorts.size, "the 20 asks went to every instance").toBe(fleet.instances.length);
    test.info().annotations.push({
      type: "observed",
      description: `cachedAt ${pageAsOf}; ${samples.length} samples; page polls answered by ports ${pollPorts.join(",")}; ${answers.length} answers degraded`,
    });
  });

  test("pages streaming through the balancer: one loop per topic for the whole fleet; QuestDB killed → every page gets the degraded banner pushed, with one cachedAt", async ({
    context,
    fleet,
  }) => {
    // Three tabs: the balancer sends their streams to different instances.
    const pages: Page[] = [];
    for (let i = 0; i < 3; i++) {
      const page = await context.newPage();
      await loadLive(page, fleet.balancer.url);
      pages.push(page);
    }
    const streaming = await Promise.all(
      pages.map((page) => page.getByTestId("page-status").getAttribute("data-transport")),
    );
    expect(streaming.filter((t) => t === "sse").length).toBeGreaterThanOrEqual(1);

    await fleet.questdb.kill();
    const asOf: string[] = [];
    for (const page of pages) {
      const banner = page.getByTestId("degraded-banner");
      await expect(banner).toContainText("Data as of", { timeout: 30_000 });
      asOf.push((await banner.locator("time").getAttribute("datetime")) ?? "");
    }
    expect(new Set(asOf).size, asOf.join(", ")).toBe(1);
    // The instances' logs: each live topic's loop was taken by one instance for the fleet.
    const taken = fleet.instances.flatMap((instance) =>
      readFileSync(instance.logFile, "utf8")
        .split("\n")
        .filter((line) => line.includes('"live.loop_taken"') && line.includes("sessions.active")),
    );
    expect(taken.length, taken.join("\n")).toBe(1);
    expect(taken[0]).toContain('"redis":"ok"');
  });

  test("one instance restarted during the outage answers degraded at once, with the cachedAt it had before", async ({
    page,
    request,
    fleet,
  }) => {
    await loadLive(page, fleet.balancer.url);
    const [steady, restarted] = fleet.instances as [(typeof fleet.instances)[0], (typeof fleet.instances)[0]];

    await fleet.questdb.kill();
    await expect
      .poll(async () => (await askSessions(request, restarted.url)).status, { timeout: 30_000 })
      .toBe("degraded");
    const before = cachedAtOf(await askSessions(request, restarted.url));
    expect(before).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(cachedAtOf(await askSessions(request, steady.url)), "both instances answer with the fleet's newest").toBe(
      before,
    );

    await restarted.stop();
    await restarted.start();
    const first = await askSessions(request, restarted.url);
    expect(first.status).toBe("degraded");
    expect(cachedAtOf(first)).toBe(before);

    // The page, polling through the balancer all along, still shows the rows under that time.
    await expect(page.getByTestId("degraded-banner").locator("time")).toHaveAttribute("datetime", before!);
    await expect(page.getByTestId("sessions-row").first()).toBeVisible();
    await expect(page.getByTestId("error-state")).toHaveCount(0);
    test.info().annotations.push({ type: "observed", description: `cachedAt before and after the restart ${before}` });
  });

  test("Redis killed while healthy, then during an outage, then back: the page keeps its rows, no 5xx, health follows Redis", async ({
    page,
    request,
    fleet,
  }) => {
    const redis = fleet.redis!;
    const serverErrors: string[] = [];
    page.on("response", (res) => {
      if (res.status() >= 500) serverErrors.push(`${res.status()} ${res.url()}`);
    });
    await loadLive(page, fleet.balancer.url);
    const traffic = fleet.backgroundTraffic();
    for (const instance of fleet.instances) {
      expect((await askHealth(request, instance.url)).redis).toBe("ok");
      // Each instance serves the input once itself, so each has it to fall back on without Redis.
      expect((await askSessions(request, instance.url)).status).toBe("ok");
    }

    // Redis killed during healthy traffic: each instance works alone, the page stays live.
    await recordPage(page);
    await redis.kill();
    await waitForRedisHealth(request, fleet, "unavailable");
    await page.waitForTimeout(6_000);
    const healthySamples = await recordedSamples(page);
    expect(samplingProblems(healthySamples, { bannerStays: false })).toEqual([]);
    expect(
      healthySamples.filter((s) => s.status !== "Live" || s.dataAsOf !== null),
      "the page stays live without Redis",
    ).toEqual([]);

    // Then QuestDB too: the rows stay under the banner.
    await recordPage(page);
    await fleet.questdb.kill();
    await expect(page.getByTestId("degraded-banner")).toBeVisible({ timeout: 30_000 });
    await page.waitForTimeout(8_000);
    await expect(page.getByTestId("degraded-banner")).toContainText("Data as of");
    const localCachedAts: string[] = [];
    for (const instance of fleet.instances) {
      const answer = await askSessions(request, instance.url);
      expect(answer.status, `${instance.name} during the outage without Redis`).toBe("degraded");
      localCachedAts.push(`${instance.name} ${cachedAtOf(answer)}`);
    }

    // Redis back: every instance rejoins by itself, the page still shows the rows.
    await redis.restart();
    await waitForRedisHealth(request, fleet, "ok");
    await page.waitForTimeout(4_000);
    const outageSamples = await recordedSamples(page);
    expect(samplingProblems(outageSamples, { bannerStays: true })).toEqual([]);
    await expect(page.getByTestId("degraded-banner")).toBeVisible();

    // And QuestDB back: live again.
    await fleet.questdb.restart();
    await expect(page.getByTestId("degraded-banner")).toHaveCount(0, { timeout: 30_000 });
    await expect(page.getByTestId("page-status")).toHaveText("Live");

    expect(serverErrors, "no 5xx seen by the page").toEqual([]);
    expect(
      (await traffic.stop()).filter((status) => status !== 200),
      "the other client's /api/health through the balancer",
    ).toEqual([]);
    expect(serverErrorsAtBalancer(fleet.balancer), "no 5xx through the balancer").toEqual([]);
    test.info().annotations.push({
      type: "observed",
      description: `without Redis: ${healthySamples.length} live samples; outage: ${outageSamples.length} samples, page Data as of ${[
        ...new Set(outageSamples.map((s) => s.dataAsOf)),
      ].join(", ")}; instances' cachedAt without Redis: ${localCachedAts.join(", ")}`,
    });
  });
});

test.describe("without Redis, one instance", () => {
  test.use({ instanceCount: 1, withRedis: false });

  test("restart during the outage with the embedded store: the first answer is degraded with the original cachedAt; the page shows rows and banner", async ({
    page,
    request,
    fleet,
  }) => {
    const [app] = fleet.instances as [(typeof fleet.instances)[0]];
    expect((await askHealth(request, app.url)).redis).toBeUndefined();
    const ok = await askSessions(request, app.url);
    expect(ok.status).toBe("ok");
    const fetchedAt = ok.status === "ok" ? ok.fetchedAt : "";

    await fleet.questdb.kill();
    // Within a second of the fetch the answer is still reused as fresh: wait for the first degraded one.
    await expect.poll(async () => (await askSessions(request, app.url)).status, { timeout: 30_000 }).toBe("degraded");
    const during = await askSessions(request, app.url);
    expect(cachedAtOf(during)).toBe(fetchedAt);

    await app.stop();
    await app.start();
    const first = await askSessions(request, app.url);
    expect(first.status).toBe("degraded");
    expect(cachedAtOf(first)).toBe(fetchedAt);

    await page.goto(app.url);
    await expect(page.getByTestId("sessions-row").first()).toBeVisible();
    const banner = page.getByTestId("degraded-banner");
    await expect(banner).toBeVisible();
    await expect(banner).toContainText("Data as of");
    await expect(banner.locator("time")).toHaveAttribute("datetime", fetchedAt);
    await expect(page.getByTestId("error-state")).toHaveCount(0);
    test
      .info()
      .annotations.push({ type: "observed", description: `fetchedAt ${fetchedAt} = cachedAt after the restart` });
  });
});
