import {
  test as base,
  expect,
  type APIRequestContext,
  type Browser,
  type BrowserContext,
  type Page,
} from "@playwright/test";
import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { startApp, type AppProcess } from "../harness/app-process";
import {
  signInAtProvider,
  startOidcProvider,
  type OidcProviderProcess,
  type TestUser,
} from "../harness/oidc-provider-process";
import { QuestdbProcess, findFreePort, findFreePorts, httpUrlFor, pgUrlFor } from "../harness/questdb-process";

/**
 * Each test gets its own seeded QuestDB (a copy of the run's template) and its own production app
 * pointed at it, with a short breaker recovery and health interval so outages play out quickly.
 * Both are stopped after the test (and killed with the test process by their launchers); the
 * app's and QuestDB's logs are attached when a test fails, and a test fails if the app died or
 * logged an unhandled error.
 *
 * By default the app runs as production should, AUTH_MODE=oidc against a real OpenID provider of
 * its own (harness/oidc-provider-process.ts), and the test's browser and `request` are signed in
 * as the operator alice through the provider's login form before the test starts.
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
export interface QuestdbHandle
  extends Pick<QuestdbProcess, "pgUrl" | "httpUrl" | "pgPort" | "httpPort" | "dataDir" | "kill" | "freeze" | "thaw"> {
  process: QuestdbProcess | null;
  /** Starts QuestDB (when the test began with it down) or restarts it on the same ports and data. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Runs SQL against it (to write new data mid-test). */
  sql(text: string, params?: unknown[]): Promise<void>;
}

/** What the app was given to check sign-ins and scrapes with (AUTH_MODE=oidc). */
export interface StackAuth {
  provider: OidcProviderProcess;
  /** AUTH_SECRET: the session cookie's key. */
  secret: string;
  metricsToken: string;
  /** The session cookie(s) of the signed-in test user; [] when the test signs in itself. */
  cookies: Awaited<ReturnType<BrowserContext["cookies"]>>;
}

export interface Stack {
  questdb: QuestdbHandle;
  app: AppProcess;
  /** null with authMode "none". */
  auth: StackAuth | null;
  /** Stops the app (the browser loses its server) and starts it again on the same port. */
  stopApp(): Promise<void>;
  startApp(): Promise<void>;
}

interface StackOptions {
  /** Start the test with QuestDB down (cold start). */
  questdbDown: boolean;
  /** More environment for the app, over APP_ENV. */
  appEnv: Record<string, string>;
  /** "oidc" (default): sign-in through a real provider; "none": AUTH_MODE=none. */
  authMode: "oidc" | "none";
  /** Who the test's browser and `request` are signed in as before it starts; null: nobody. */
  signedInAs: keyof OidcProviderProcess["users"] | null;
}

/**
 * Signs `request` in over plain HTTP the way a browser does: the dashboard redirects to the
 * provider's login form, the form is posted with the user's password, the provider redirects back
 * with a code. `request` keeps the cookies; returns the app's.
 */
export async function signInWithRequest(
  request: APIRequestContext,
  appUrl: string,
  user: TestUser,
): Promise<StackAuth["cookies"]> {
  const form = await request.get(`${appUrl}/`);
  if (!(await form.text()).includes('name="password"'))
    throw new Error(`sign-in: expected the provider's login form at ${form.url()} (HTTP ${form.status()})`);
  const back = await request.post(form.url(), { form: { login: user.login, password: user.password } });
  if (!back.url().startsWith(appUrl) || back.status() !== 200)
    throw new Error(`sign-in as ${user.login}: ended at ${back.url()} (HTTP ${back.status()})`);
  const { cookies } = await request.storageState();
  return cookies.filter((cookie) => cookie.name.includes("qdb_session"));
}

/**
 * Signs in through the app's own door in a fresh browser context: the dashboard sends it to the
 * provider, the user types a password there, the provider sends it back. Returns the cookies.
 */
export async function signInThroughProvider(
  browser: Browser,
  appUrl: string,
  user: TestUser,
): Promise<StackAuth["cookies"]> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(appUrl);
    await signInAtProvider(page, user);
    await page.waitForURL(`${appUrl}/**`);
    return await context.cookies(appUrl);
  } finally {
    await context.close();
  }
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
  let [pgPort, httpPort] = (await findFreePorts(2)) as [number, number];
  const launch = () => QuestdbProcess.start({ dataDir, pgPort, httpPort, logFile: path.join(testDir, "questdb.log") });
  let first: QuestdbProcess | null = null;
  // A free port may be taken before QuestDB binds it: the first start tries other ports.
  for (let attempt = 1; running && !first; attempt++) {
    try {
      first = await launch();
    } catch (error) {
      if (attempt >= 3 || !(error instanceof Error && error.message.includes("could not bind"))) throw error;
      [pgPort, httpPort] = (await findFreePorts(2)) as [number, number];
    }
  }
  const handle: QuestdbHandle = {
    process: first,
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

/**
 * The `page` fixture of every spec: the page must never throw, and nothing on it may be refused by
 * its Content-Security-Policy — an uncaught error or a CSP violation in the browser fails the test.
 */
export const pageFailingOnErrors = async (
  { page }: { page: Page },
  use: (page: Page) => Promise<void>,
): Promise<void> => {
  const errors: string[] = [];
  const cspViolations: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message || String(error)));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text()))
      cspViolations.push(message.text());
  });
  await use(page);
  expect(errors, "uncaught errors in the page").toEqual([]);
  expect(cspViolations, "CSP violations in the page").toEqual([]);
};

/** `Authorization: Bearer <METRICS_TOKEN>` for /api/metrics (none with authMode "none"). */
export function metricsHeaders(stack: Stack): Record<string, string> {
  return stack.auth ? { authorization: `Bearer ${stack.auth.metricsToken}` } : {};
}

export const test = base.extend<StackOptions & { stack: Stack }>({
  questdbDown: [false, { option: true }],
  appEnv: [{}, { option: true }],
  authMode: ["oidc", { option: true }],
  signedInAs: ["operator", { option: true }],
  page: pageFailingOnErrors,
  // Signs the test's `request` in through the provider and hands its session cookie to the test's
  // browser context: only tests that use the stack pay for it.
  stack: async ({ questdbDown, appEnv, authMode, signedInAs, context, request }, use, testInfo) => {
    const testDir = mkdtempSync(path.join(os.tmpdir(), "e2e-stack-"));
    const questdb = await createSeededQuestdb(testDir, !questdbDown);
    let app: AppProcess | undefined;
    let provider: OidcProviderProcess | undefined;
    const port = await findFreePort();
    const url = `http://127.0.0.1:${port}`;
    let authEnv: Record<string, string> = { AUTH_MODE: "none" };
    let auth: StackAuth | null = null;
    if (authMode === "oidc") {
      provider = await startOidcProvider({
        redirectUris: [`${url}/api/auth/callback`],
        logFile: path.join(testDir, "oidc-provider.log"),
      });
      auth = {
        provider,
        secret: randomBytes(32).toString("base64url"),
        metricsToken: randomBytes(16).toString("hex"),
        cookies: [],
      };
      authEnv = {
        AUTH_MODE: "oidc",
        OIDC_ISSUER: provider.issuer,
        OIDC_CLIENT_ID: provider.client.id,
        OIDC_CLIENT_SECRET: provider.client.secret,
        OIDC_ALLOWED_GROUPS: "operators",
        AUTH_SECRET: auth.secret,
        METRICS_TOKEN: auth.metricsToken,
      };
    }
    const launchApp = () =>
      startApp({
        port,
        logFile: path.join(testDir, "app.log"),
        // Each test's app keeps its last-known-good snapshot in the test's own directory.
        env: {
          ...APP_ENV,
          ...authEnv,
          DASHBOARD_DATA_DIR: path.join(testDir, "data"),
          ...appEnv,
          QUESTDB_URL: questdb.pgUrl,
          QUESTDB_HTTP_URL: questdb.httpUrl,
        },
      });
    try {
      app = await launchApp();
      if (auth && provider && signedInAs) {
        auth.cookies = await signInWithRequest(request, url, provider.users[signedInAs]);
        await context.addCookies(auth.cookies);
      }
      const stack: Stack = {
        questdb,
        app,
        auth,
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
        if (provider)
          await testInfo
            .attach("oidc-provider.log", { path: provider.logFile, contentType: "text/plain" })
            .catch(() => undefined);
        await testInfo
          .attach("questdb.log", { path: path.join(testDir, "questdb.log"), contentType: "text/plain" })
          .catch(() => undefined);
      }
      await app?.stop();
      await provider?.stop();
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
      return [...cells.slice(0, -1).map((cell) => (cell as HTMLElement).textContent.trim()), started].join(" | ");
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
