import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { APIRequest, Page } from "@playwright/test";
import { startApp, type AppProcess } from "../harness/app-process";
import { signInAtKeycloak, startKeycloak, type KeycloakProcess } from "../harness/keycloak-process";
import { findFreePorts } from "../harness/questdb-process";
import { APP_ENV, createSeededQuestdb, expect, measure, test, type QuestdbHandle } from "./fixtures";
import { cookieHeader } from "./raw-http";

/**
 * Sign-in against Keycloak itself (issue 20), set up as the README's Keycloak recipe says: realm
 * `ops`, a confidential client with PKCE S256 and a group membership mapper, OIDC_ISSUER without a
 * trailing slash. The test provider proves the app's logic; this proves the recipe is exact for the
 * provider operators run. One Keycloak, one QuestDB and two apps for the whole file (Keycloak takes
 * seconds to start): `questdb-dashboard` with "Full group path" on (Keycloak's default, `/trading-ops`
 * in the claim) and `questdb-dashboard-short-groups` with it off (`trading-ops`).
 */

test.describe.configure({ mode: "serial" });

const SESSIONS = "/api/trpc/sessions.active";
/** AUTH_RECHECK_MINUTES of the main app: 3 s, so a change at Keycloak plays out within the test. */
const RECHECK_MINUTES = "0.05";

interface KeycloakStack {
  keycloak: KeycloakProcess;
  questdb: QuestdbHandle;
  /** Full group path on. */
  app: AppProcess;
  /** Full group path off. */
  shortGroupsApp: AppProcess;
  dir: string;
}

let stack: KeycloakStack | undefined;

test.beforeAll(async () => {
  // Keycloak's first start on a machine unpacks and builds the distribution (about 20 s more).
  test.setTimeout(300_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "e2e-keycloak-"));
  const [port, shortPort] = (await findFreePorts(2)) as [number, number];
  const url = `http://127.0.0.1:${port}`;
  const shortUrl = `http://127.0.0.1:${shortPort}`;
  const keycloak = await startKeycloak({
    clients: [
      { clientId: "questdb-dashboard", appUrl: url, fullGroupPath: true },
      { clientId: "questdb-dashboard-short-groups", appUrl: shortUrl, fullGroupPath: false },
    ],
    logFile: path.join(dir, "keycloak.log"),
  });
  console.log(`[measure] Keycloak ready (realm discovery answering) after ${keycloak.startMs} ms`);
  const questdb = await createSeededQuestdb(dir, true);
  const launch = (appPort: number, clientId: string, extraEnv: Record<string, string> = {}) =>
    startApp({
      port: appPort,
      logFile: path.join(dir, `app-${clientId}.log`),
      env: {
        ...APP_ENV,
        AUTH_MODE: "oidc",
        OIDC_ISSUER: keycloak.issuer,
        OIDC_CLIENT_ID: clientId,
        OIDC_CLIENT_SECRET: keycloak.secrets[clientId]!,
        OIDC_ALLOWED_GROUPS: "trading-ops",
        AUTH_SECRET: randomBytes(32).toString("base64url"),
        METRICS_TOKEN: randomBytes(16).toString("hex"),
        DASHBOARD_DATA_DIR: path.join(dir, `data-${clientId}`),
        QUESTDB_URL: questdb.pgUrl,
        QUESTDB_HTTP_URL: questdb.httpUrl,
        ...extraEnv,
      },
    });
  const [app, shortGroupsApp] = await Promise.all([
    launch(port, "questdb-dashboard", { AUTH_RECHECK_MINUTES: RECHECK_MINUTES }),
    launch(shortPort, "questdb-dashboard-short-groups"),
  ]);
  stack = { keycloak, questdb, app, shortGroupsApp, dir };
});

test.afterEach(async () => {
  const testInfo = test.info();
  if (!stack || testInfo.status === testInfo.expectedStatus) return;
  for (const name of ["keycloak.log", "app-questdb-dashboard.log", "app-questdb-dashboard-short-groups.log"])
    await testInfo.attach(name, { path: path.join(stack.dir, name), contentType: "text/plain" }).catch(() => {});
});

test.afterAll(async () => {
  if (!stack) return;
  const { keycloak, questdb, app, shortGroupsApp, dir } = stack;
  const unhandled = [...app.unhandledErrors(), ...shortGroupsApp.unhandledErrors()];
  await Promise.all([app.stop(), shortGroupsApp.stop()]);
  await keycloak.stop();
  await questdb.process?.stop();
  rmSync(dir, { recursive: true, force: true });
  expect(unhandled, "the apps must log no unhandled error").toEqual([]);
});

function current(): KeycloakStack {
  if (!stack) throw new Error("the Keycloak stack did not start (see beforeAll)");
  return stack;
}

/** Opens the app, lands on Keycloak's own login form (checked: code flow with PKCE S256), signs in. */
async function signInThroughKeycloak(page: Page, appUrl: string, user: "alice" | "bob"): Promise<void> {
  const { keycloak } = current();
  await page.goto(appUrl);
  await expect(page).toHaveURL(new RegExp(`^${keycloak.issuer}/protocol/openid-connect/auth\\?`));
  const query = new URL(page.url()).searchParams;
  expect(query.get("response_type")).toBe("code");
  expect(query.get("code_challenge_method")).toBe("S256");
  expect(query.get("code_challenge")).toMatch(/^[\w-]{43}$/);
  await signInAtKeycloak(page, keycloak.users[user]);
}

test("alice signs in on Keycloak's login form (code flow, PKCE) and sees the sessions", async ({ page }) => {
  const { app, keycloak } = current();
  measure("keycloakStart", keycloak.startMs);
  await page.goto(app.url);
  await expect(page).toHaveURL(new RegExp(`^${keycloak.issuer}/`));
  // The client requires S256 as the README says to set it: the same request without PKCE is refused.
  const withoutPkce = new URL(page.url());
  withoutPkce.searchParams.delete("code_challenge");
  withoutPkce.searchParams.delete("code_challenge_method");
  const refused = await page.request.get(withoutPkce.href, { maxRedirects: 0 });
  expect(refused.headers().location).toMatch(/error=invalid_request.*code_challenge/);

  await signInThroughKeycloak(page, app.url, "alice");
  await expect(page).toHaveURL(`${app.url}/`);
  await expect(page.getByTestId("sessions-row").first()).toBeVisible();
  await expect(page.getByTestId("account-name")).toHaveText("Alice Operator");
  expect((await page.request.get(`${app.url}${SESSIONS}`)).status()).toBe(200);
});

test("with 'Full group path' off (groups: trading-ops) alice is let in too", async ({ page }) => {
  const { shortGroupsApp } = current();
  await signInThroughKeycloak(page, shortGroupsApp.url, "alice");
  await expect(page).toHaveURL(`${shortGroupsApp.url}/`);
  await expect(page.getByTestId("sessions-row").first()).toBeVisible();
});

test("bob, outside trading-ops, sees 'Not allowed' with the groups Keycloak sent, and no data", async ({ page }) => {
  const { app } = current();
  await signInThroughKeycloak(page, app.url, "bob");
  await expect(page).toHaveURL(`${app.url}/not-allowed`);
  await expect(page.getByRole("heading", { name: "Not allowed" })).toBeVisible();
  await expect(page.getByTestId("not-allowed")).toContainText("bob@example.test");
  await expect(page.getByTestId("account-groups")).toContainText("/other");
  await expect(page.getByTestId("sessions-table")).toHaveCount(0);
  expect((await page.request.get(`${app.url}${SESSIONS}`)).status()).toBe(403);
});

test("sign-out ends the session (a replayed cookie gets 401) and Keycloak's (the password is asked again)", async ({
  page,
  playwright,
}) => {
  const { app, keycloak } = current();
  await signInThroughKeycloak(page, app.url, "alice");
  await expect(page.getByTestId("sessions-row").first()).toBeVisible();

  // Control: while Keycloak's session lives, losing the app's cookie means going straight back in.
  // (Off the dashboard first: its own next poll would otherwise race this navigation to sign in.)
  await page.goto("about:blank");
  await page.context().clearCookies({ name: /qdb_session/ });
  await page.goto(app.url);
  await expect(page).toHaveURL(`${app.url}/`);
  await expect(page.getByTestId("sessions-row").first()).toBeVisible();

  // Another device holding a copy of the cookie, let in before the sign-out.
  const copy = await sessionCopy(page, playwright, app.url);
  expect((await copy.get(`${app.url}${SESSIONS}`)).status()).toBe(200);

  const logoutCalls: string[] = [];
  page.on("request", (req) => {
    if (req.url().startsWith(`${keycloak.issuer}/protocol/openid-connect/logout`)) logoutCalls.push(req.url());
  });
  await page.getByTestId("sign-out").click();
  await expect(page).toHaveURL(`${app.url}/signed-out`);
  expect(logoutCalls, "the browser must pass through Keycloak's end_session_endpoint").toHaveLength(1);
  expect(new URL(logoutCalls[0]!).searchParams.get("post_logout_redirect_uri")).toBe(`${app.url}/signed-out`);

  const replayed = await copy.get(`${app.url}${SESSIONS}`);
  expect(replayed.status(), "the signed-out session's cookie, replayed").toBe(401);
  await copy.dispose();

  await page.getByTestId("sign-in-again").click();
  await expect(page).toHaveURL(new RegExp(`^${keycloak.issuer}/`));
  await expect(page.locator("#password")).toBeVisible();
  await page.goto(app.url);
  await expect(page.locator("#password")).toBeVisible();
});

test("re-checked with Keycloak's refresh token: alice stays in, and once removed from trading-ops she is out", async ({
  page,
  playwright,
}) => {
  const { app, keycloak } = current();
  await signInThroughKeycloak(page, app.url, "alice");
  await expect(page.getByTestId("sessions-row").first()).toBeVisible();
  const copy = await sessionCopy(page, playwright, app.url);
  await page.goto("about:blank");
  const status = async () => (await copy.get(`${app.url}${SESSIONS}`)).status();
  try {
    // Past one re-check interval: a request starts the check (refresh token grant) in the background.
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    expect(await status()).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await status(), "still in after a re-check that Keycloak answered").toBe(200);

    await keycloak.setGroupMembership("alice", "trading-ops", false);
    const removedAt = Date.now();
    await expect.poll(status, { timeout: 20_000 }).toBe(401);
    measure("removedToOut", Date.now() - removedAt);
  } finally {
    await keycloak.setGroupMembership("alice", "trading-ops", true);
    await copy.dispose();
  }
});

/** Another client holding a copy of the page's session cookie (a second device, a stolen cookie). */
async function sessionCopy(page: Page, playwright: { request: APIRequest }, appUrl: string) {
  const cookies = (await page.context().cookies(appUrl)).filter((c) => c.name.includes("qdb_session"));
  return playwright.request.newContext({ extraHTTPHeaders: { cookie: cookieHeader(cookies) } });
}
