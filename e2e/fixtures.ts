import { test as base, expect, type Page } from "@playwright/test";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { startApp, type AppProcess } from "../harness/app-process";
import { QuestdbProcess, findFreePort, findFreePorts, httpUrlFor, pgUrlFor } from "../harness/questdb-process";

/**
 * Each test gets its own seeded QuestDB (a copy of the run's template) and its own production app
 * pointed at it, with a short breaker recovery and health interval so outages play out quickly.
 * Both are stopped after the test (and killed with the test process by their launchers); the
 * app's and QuestDB's logs are attached when a test fails, and a test fails if the app died or
 * logged an unhandled error.
 */

export const APP_ENV = {
  QUESTDB_BREAKER_RECOVERY_MS: "5000",
  QUESTDB_HEALTH_INTERVAL_MS: "500",
  QUESTDB_QUERY_TIMEOUT_MS: "2000",
  QUESTDB_DEADLINE_MS: "3000",
  // Low on purpose: every spec's page polls under it, so each proves the page never hits the limit.
  RATE_LIMIT_PER_MINUTE: "300",
};

/**
 * QuestDB for one test: `kill` (SIGKILL), `freeze` / `thaw` (SIGSTOP / SIGCONT), `restart`, as on
 * its process, and its addresses, which stay the same while no process runs (a cold start).
 */
export interface QuestdbHandle extends Pick<QuestdbProcess, "pgUrl" | "httpUrl" | "pgPort" | "httpPort" | "dataDir" | "kill" | "freeze" | "thaw"> {
  process: QuestdbProcess | null;
  /** Starts QuestDB (when the test began with it down) or restarts it on the same ports and data. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Runs SQL against it (to write new data mid-test). */
  sql(text: string, params?: unknown[]): Promise<void>;
}

export interface Stack {
  questdb: QuestdbHandle;
  app: AppProcess;
  /** Stops the app (the browser loses its server) and starts it again on the same port. */
  stopApp(): Promise<void>;
  startApp(): Promise<void>;
}

interface StackOptions {
  /** Start the test with QuestDB down (cold start). */
  questdbDown: boolean;
  /** More environment for the app, over APP_ENV. */
  appEnv: Record<string, string>;
}

/**
 * A QuestDB for one test on a copy of the run's seeded template (in `<testDir>/questdb`, its log
 * `<testDir>/questdb.log`) and two free ports; started now when `running`, else by handle.start().
 */
export async function createSeededQuestdb(testDir: string, running: boolean): Promise<QuestdbHandle> {
  const template = process.env.E2E_QUESTDB_TEMPLATE;
  if (!template) throw new Error("E2E_QUESTDB_TEMPLATE is not set: run through playwright.config.ts (global setup)");
  const dataDir = path.join(testDir, "questdb");
  cpSync(template, dataDir, { recursive: true });
  const [pgPort, httpPort] = (await findFreePorts(2)) as [number, number];
  const launch = () => QuestdbProcess.start({ dataDir, pgPort, httpPort, logFile: path.join(testDir, "questdb.log") });
  const handle: QuestdbHandle = {
    process: running ? await launch() : null,
    pgUrl: pgUrlFor(pgPort),
    httpUrl: httpUrlFor(httpPort),
    pgPort,
    httpPort,
    dataDir,
    async start() {
      if (handle.process) await handle.process.restart();
      else handle.process = await launch();
    },
    async kill() {
      await handle.process?.kill();
    },
    freeze() {
      handle.process?.freeze();
    },
    thaw() {
      handle.process?.thaw();
    },
    async restart() {
      await handle.start();
    },
    async sql(text, params = []) {
      const client = new Client({ connectionString: handle.pgUrl, connectionTimeoutMillis: 5000 });
      await client.connect();
      try {
        await client.query(text, params);
      } finally {
        await client.end();
      }
    },
  };
  return handle;
}

/** The `page` fixture of every spec: the page must never throw, an uncaught error in the browser fails the test. */
export const pageFailingOnErrors = async ({ page }: { page: Page }, use: (page: Page) => Promise<void>): Promise<void> => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message || String(error)));
  await use(page);
  expect(errors, "uncaught errors in the page").toEqual([]);
};

export const test = base.extend<StackOptions & { stack: Stack }>({
  questdbDown: [false, { option: true }],
  appEnv: [{}, { option: true }],
  page: pageFailingOnErrors,
  stack: async ({ questdbDown, appEnv }, use, testInfo) => {
    const testDir = mkdtempSync(path.join(os.tmpdir(), "e2e-stack-"));
    const questdb = await createSeededQuestdb(testDir, !questdbDown);
    let app: AppProcess | undefined;
    const port = await findFreePort();
    const launchApp = () =>
      startApp({
        port,
        logFile: path.join(testDir, "app.log"),
        // Each test's app keeps its last-known-good snapshot in the test's own directory.
        env: { ...APP_ENV, DASHBOARD_DATA_DIR: path.join(testDir, "data"), ...appEnv, QUESTDB_URL: questdb.pgUrl, QUESTDB_HTTP_URL: questdb.httpUrl },
      });
    try {
      app = await launchApp();
      const stack: Stack = {
        questdb,
        app,
        async stopApp() {
          await app?.stop();
        },
        async startApp() {
          app = await launchApp();
          stack.app = app;
        },
      };
      await use(stack);
      expect(app.isRunning(), "the app process must survive the test").toBe(true);
      expect(app.unhandledErrors(), "the app must log no unhandled error").toEqual([]);
    } finally {
      if (testInfo.status !== testInfo.expectedStatus) {
        if (app) await testInfo.attach("app.log", { path: app.logFile, contentType: "text/plain" });
        await testInfo.attach("questdb.log", { path: path.join(testDir, "questdb.log"), contentType: "text/plain" }).catch(() => undefined);
      }
      await app?.stop();
      questdb.thaw();
      await questdb.process?.stop();
      rmSync(testDir, { recursive: true, force: true });
    }
  },
});

export { expect };

/**
 * Every sessions row as the operator sees it, in order: strategy, id, symbol, mode, PnL and the
 * start time (its absolute value: the "running since" words tick every second).
 */
export async function sessionRows(page: Page): Promise<string[]> {
  return page.getByTestId("sessions-row").evaluateAll((rows) =>
    rows.map((row) => {
      const cells = [...row.querySelectorAll("td")];
      const started = cells.at(-1)?.querySelector("time")?.getAttribute("datetime") ?? "";
      return [...cells.slice(0, -1).map((cell) => (cell as HTMLElement).innerText.trim()), started].join(" | ");
    }),
  );
}

/** Saves a screenshot of the page's current state as a test artefact (under test-results/). */
export async function snapshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: test.info().outputPath(`${name}.png`), fullPage: true });
}

/** Records a measured duration for the issue notes (test-results/e2e-measurements.jsonl). */
export function measure(name: string, ms: number): void {
  test.info().annotations.push({ type: "measurement", description: `${name}=${Math.round(ms)}ms` });
  console.log(`[measure] ${test.info().title}: ${name}=${Math.round(ms)} ms`);
}
