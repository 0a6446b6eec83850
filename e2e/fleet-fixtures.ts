import { test as base, expect, type APIRequestContext, type Page } from "@playwright/test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DEFAULT_SESSIONS_INPUT } from "../contract/market";
import { createFleet, type AppFleet, type FleetInstance } from "../harness/app-fleet";
import type { LoadBalancer } from "../harness/nginx-process";
import { Rng } from "../harness/prng";
import type { QuestdbProcess } from "../harness/questdb-process";
import type { RedisProcess } from "../harness/redis-process";
import { APP_ENV, createSeededQuestdb, pageFailingOnErrors } from "./fixtures";

/**
 * A fleet for one test: a seeded QuestDB (a copy of the run's template), one Redis, several
 * production app instances sharing it (each with its own DASHBOARD_DATA_DIR) and nginx
 * round-robin in front of them, through the fleet launcher in harness/app-fleet.ts. Everything is
 * stopped after the test, also when it fails; the logs of every process are attached to a failed
 * test, and a test fails if an instance died or logged an unhandled error.
 */

export const FLEET_APP_ENV = {
  ...APP_ENV,
  // All traffic reaches the instances from one address (the balancer's): the limit is not under test here.
  RATE_LIMIT_PER_MINUTE: "100000",
  // Fleet specs are about shared state, not sign-in (the single-instance specs run signed in).
  AUTH_MODE: "none",
};

export type { FleetInstance };

export interface Fleet {
  questdb: QuestdbProcess;
  /** Null when the test runs without Redis (each instance alone, on its disk snapshot). */
  redis: RedisProcess | null;
  balancer: LoadBalancer;
  instances: FleetInstance[];
  /**
   * Starts another client's traffic through the balancer (see backgroundTraffic);
   * stopped after the test at the latest.
   */
  backgroundTraffic(): BackgroundTraffic;
}

interface FleetOptions {
  /** How many app instances behind the balancer. */
  instanceCount: number;
  /** Start a Redis and give every instance REDIS_URL. */
  withRedis: boolean;
}

function attachIfExists(file: string, name: string) {
  if (!existsSync(file)) return Promise.resolve();
  return test.info().attach(name, { path: file, contentType: "text/plain" });
}

/** Every process's log, attached to a failed test. */
async function attachLogs(testDir: string, apps: AppFleet | undefined): Promise<void> {
  for (const instance of apps?.instances ?? []) await attachIfExists(instance.logFile, `${instance.name}.log`);
  await attachIfExists(path.join(testDir, "questdb.log"), "questdb.log");
  if (apps?.redis) await attachIfExists(apps.redis.logFile, "redis.log");
  if (apps?.balancer) {
    await attachIfExists(path.join(apps.balancer.dir, "access.log"), "nginx-access.log");
    await attachIfExists(path.join(apps.balancer.dir, "error.log"), "nginx-error.log");
  }
}

export const test = base.extend<FleetOptions & { fleet: Fleet }>({
  instanceCount: [2, { option: true }],
  withRedis: [true, { option: true }],
  page: pageFailingOnErrors,
  fleet: async ({ instanceCount, withRedis }, use, testInfo) => {
    const testDir = mkdtempSync(path.join(os.tmpdir(), "e2e-fleet-"));
    let questdb: QuestdbProcess | undefined;
    let apps: AppFleet | undefined;
    const traffic: BackgroundTraffic[] = [];
    try {
      // Started at once (running: true), so its process is there.
      questdb = (await createSeededQuestdb(testDir, true)).process!;
      const env = { ...FLEET_APP_ENV, QUESTDB_URL: questdb.pgUrl, QUESTDB_HTTP_URL: questdb.httpUrl };
      // One instance at a time (the launcher's default): parallel `next start`s slow each other on 2 cores.
      apps = createFleet({ size: instanceCount, withRedis, dir: testDir, env, namePrefix: "app" });
      await apps.start();
      const url = apps.balancer!.url;
      await use({
        questdb,
        redis: apps.redis,
        balancer: apps.balancer!,
        instances: apps.instances,
        backgroundTraffic() {
          const started = backgroundTraffic(url);
          traffic.push(started);
          return started;
        },
      });

      for (const instance of apps.instances) {
        expect(instance.app.isRunning(), `${instance.name} must survive the test`).toBe(true);
        expect(instance.app.unhandledErrors(), `${instance.name} must log no unhandled error`).toEqual([]);
      }
    } finally {
      if (testInfo.status !== testInfo.expectedStatus) await attachLogs(testDir, apps);
      await Promise.all(traffic.map((t) => t.stop()));
      await apps?.stop();
      questdb?.thaw();
      await questdb?.stop().catch(() => undefined);
      rmSync(testDir, { recursive: true, force: true });
    }
  },
});

export { expect };

/** The page's own sessions input, as the browser sends it. */
const PAGE_SESSIONS_INPUT = encodeURIComponent(JSON.stringify(DEFAULT_SESSIONS_INPUT));
export const PAGE_SESSIONS_URL = `/api/trpc/sessions.active?input=${PAGE_SESSIONS_INPUT}`;

export type SessionsAnswer =
  | { status: "ok"; data: unknown[]; fetchedAt: string }
  | { status: "degraded"; data: unknown[]; cachedAt: string; reason: string; cause: string }
  | { status: "error"; data: null; reason: string; cause: string };

/**
 * One sessions.active answer for the page's input from `baseUrl` (an instance or the balancer);
 * the HTTP status must be 200.
 */
export async function askSessions(request: APIRequestContext, baseUrl: string): Promise<SessionsAnswer> {
  const res = await request.get(`${baseUrl}${PAGE_SESSIONS_URL}`);
  expect(res.status(), `sessions.active from ${baseUrl}: ${await res.text()}`).toBe(200);
  return ((await res.json()) as { result: { data: SessionsAnswer } }).result.data;
}

/** `/api/health` of one instance; the HTTP status must be 200. */
export async function askHealth(
  request: APIRequestContext,
  baseUrl: string,
): Promise<{ status: string; redis?: string; questdb: { breaker: string } }> {
  const res = await request.get(`${baseUrl}/api/health`);
  expect(res.status(), `/api/health of ${baseUrl}`).toBe(200);
  return res.json();
}

/** What the page shows at one instant. */
export interface PageSample {
  at: number;
  rows: number;
  errorState: number;
  /** The banner's `<time dateTime>`, null when no banner is shown. */
  dataAsOf: string | null;
  status: string;
}

/**
 * Starts sampling, inside the page every `everyMs`, what it shows; recordedSamples() reads them.
 * In the page, so the test can do other things (kill processes, ask instances) meanwhile.
 */
export async function recordPage(page: Page, everyMs = 500): Promise<void> {
  await page.evaluate((interval) => {
    const w = window as unknown as { fleetSamples: unknown[]; fleetTimer?: number };
    if (w.fleetTimer) clearInterval(w.fleetTimer);
    w.fleetSamples = [];
    const sample = () =>
      w.fleetSamples.push({
        at: Date.now(),
        rows: document.querySelectorAll("[data-testid=sessions-row]").length,
        errorState: document.querySelectorAll("[data-testid=error-state]").length,
        dataAsOf: document.querySelector("[data-testid=degraded-banner] time")?.getAttribute("datetime") ?? null,
        status: document.querySelector("[data-testid=page-status]")?.textContent?.trim() ?? "",
      });
    sample();
    w.fleetTimer = window.setInterval(sample, interval);
  }, everyMs);
}

export async function recordedSamples(page: Page): Promise<PageSample[]> {
  return page.evaluate(() => (window as unknown as { fleetSamples: PageSample[] }).fleetSamples);
}

/**
 * What is wrong in a run of samples: an error state or no rows while rows had been shown, the
 * "Data as of" time going backwards, or the banner vanishing once shown (when `bannerStays`).
 */
export function samplingProblems(samples: PageSample[], { bannerStays }: { bannerStays: boolean }): string[] {
  const problems: string[] = [];
  let newestAsOf: string | null = null;
  let bannerSeen = false;
  for (const s of samples) {
    const when = new Date(s.at).toISOString();
    if (s.errorState > 0) problems.push(`${when}: error-state shown (rows ${s.rows})`);
    if (s.rows === 0) problems.push(`${when}: no rows`);
    if (s.dataAsOf) {
      if (newestAsOf && Date.parse(s.dataAsOf) < Date.parse(newestAsOf))
        problems.push(`${when}: Data as of ${s.dataAsOf} after ${newestAsOf}`);
      if (!newestAsOf || Date.parse(s.dataAsOf) > Date.parse(newestAsOf)) newestAsOf = s.dataAsOf;
      bannerSeen = true;
    } else if (bannerStays && bannerSeen) {
      problems.push(`${when}: the banner vanished (page status "${s.status}")`);
    }
  }
  return problems;
}

export interface BackgroundTraffic {
  stop(): Promise<number[]>;
}

/**
 * Another client's traffic through the balancer: GETs of `/api/health` with random pauses of
 * 0.1–1.1 s. The page's poll is a fixed number of requests, so round-robin alone (or with evenly
 * spaced extra traffic) can send every sessions poll to the same instance; this traffic shifts the
 * rotation irregularly so the polls land on different instances. stop() resolves with the
 * statuses it got (0 for no answer).
 */
function backgroundTraffic(balancerUrl: string): BackgroundTraffic {
  const rng = new Rng(13);
  const statuses: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const res = await fetch(`${balancerUrl}/api/health`, { signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        statuses.push(res.status);
      } catch {
        statuses.push(0);
      }
      await new Promise((resolve) => setTimeout(resolve, rng.int(100, 1_100)));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return statuses;
    },
  };
}

/** Which upstream (instance port) served each sessions request through the balancer, from its access log. */
export function upstreamsOfSessionsRequests(balancer: LoadBalancer): { port: number; status: number }[] {
  const log = readFileSync(path.join(balancer.dir, "access.log"), "utf8");
  return log
    .split("\n")
    .filter((line) => line.includes("sessions.active"))
    .flatMap((line) => {
      const match = / (\d{3}) upstream=127\.0\.0\.1:(\d+)\//.exec(line);
      return match ? [{ status: Number(match[1]), port: Number(match[2]) }] : [];
    });
}

/** Every request the balancer answered with a 5xx, as its access-log lines. */
export function serverErrorsAtBalancer(balancer: LoadBalancer): string[] {
  const file = path.join(balancer.dir, "access.log");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => /" 5\d\d upstream=/.test(line));
}
