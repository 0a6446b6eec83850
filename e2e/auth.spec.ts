import type { APIRequestContext, APIResponse, PlaywrightWorkerArgs } from "@playwright/test";
import { openSession, sealSession, type SessionUser } from "../server/auth/session-cookie";
import { expect, metricsHeaders, signInWithRequest, test, type Stack } from "./fixtures";

/**
 * Access control against a real OpenID provider (oidc-provider, its own process and port): the
 * way in, the doors that stay shut, the provider's outage, and the page's headers. Every request
 * here that is meant to be anonymous goes through a fresh context with no cookie at all.
 */

const PROCEDURES = [
  "sessions.active",
  `market.candles?input=${encodeURIComponent(JSON.stringify({ symbol: "BTC-USD", interval: "1m" }))}`,
  "health.status",
  "health.timeline",
  `sessions.active,health.status?batch=1&input=${encodeURIComponent("{}")}`,
];

const audienceOf = (stack: Stack, clientId?: string) => ({
  issuer: stack.auth!.provider.issuer,
  clientId: clientId ?? stack.auth!.provider.client.id,
});

/**
 * A real sign-in's cookie and the id of the session the server keeps for it: a sealed cookie alone
 * opens nothing any more, it must name a session the server has.
 */
async function signedInSession(stack: Stack, playwright: PlaywrightWorkerArgs["playwright"]) {
  const request = await playwright.request.newContext();
  const [cookie] = await signInWithRequest(request, stack.app.url, stack.auth!.provider.users.operator);
  await request.dispose();
  const opened = await openSession(cookie!.value, audienceOf(stack), [stack.auth!.secret]);
  if ("failure" in opened) throw new Error(`the sign-in's own cookie did not open: ${opened.failure}`);
  return { cookie: cookie!.value, sid: opened.sid };
}

/** A session cookie as this stack's app seals it (its key, issuer and client), or as told otherwise. */
function sealFor(
  stack: Stack,
  user: SessionUser & { sid: string },
  opts: { nowMs?: number; secret?: string; clientId?: string } = {},
): Promise<string> {
  return sealSession(user, audienceOf(stack, opts.clientId), [opts.secret ?? stack.auth!.secret], opts.nowMs);
}

async function json(res: APIResponse): Promise<unknown> {
  return JSON.parse(await res.text());
}

/** Words that only a signed-in operator may see: the seeded sessions, the pool, QuestDB's address. */
async function secretsOf(stack: Stack, request: APIRequestContext): Promise<string[]> {
  const res = await request.get(`${stack.app.url}/api/trpc/sessions.active`);
  const sessions = ((await json(res)) as { result: { data: { data: Array<{ sessionId: string; strategy: string }> } } })
    .result.data.data;
  expect(sessions.length).toBeGreaterThan(0);
  // Strategy names short enough to be ordinary words ("grid") would match page markup: left out.
  return [
    ...sessions.flatMap((s) => [s.sessionId, s.strategy]).filter((word) => word.length >= 6),
    "pnl",
    "breaker",
    "pool",
    `:${stack.questdb.pgPort}`,
    "lastError",
  ];
}

test.describe("signed out", () => {
  test.use({ signedInAs: null });

  test("the page sends a stranger to the provider and back to where they were going, signed in", async ({
    page,
    stack,
  }) => {
    await page.goto(`${stack.app.url}/?from=bookmark`);
    await expect(page).toHaveURL(new RegExp(`^${stack.auth!.provider.issuer}/`));
    await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
    const { signInAtProvider } = await import("../harness/oidc-provider-process");
    await signInAtProvider(page, stack.auth!.provider.users.operator);
    await expect(page).toHaveURL(`${stack.app.url}/?from=bookmark`);
    await expect(page.getByTestId("sessions-row").first()).toBeVisible();
    await expect(page.getByTestId("account-name")).toHaveText("Alice Operator");
    await expect(page.getByTestId("auth-off")).toHaveCount(0);

    // The session cookie: HttpOnly, SameSite=Lax, an expiry; not Secure over plain http.
    const [cookie] = (await page.context().cookies(stack.app.url)).filter((c) => c.name === "qdb_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax", secure: false });
    expect(cookie!.expires * 1000).toBeGreaterThan(Date.now() + 7 * 3600_000);
    expect(await page.evaluate(() => document.cookie)).not.toContain("qdb_session");
  });

  test("no credentials: every procedure is 401 with a message, metrics 401, health only {status}; no route shows data", async ({
    playwright,
    stack,
    browser,
  }) => {
    const anon = await playwright.request.newContext();
    for (const procedure of PROCEDURES) {
      const res = await anon.get(`${stack.app.url}/api/trpc/${procedure}`);
      expect(res.status(), procedure).toBe(401);
      const text = await res.text();
      expect(text, procedure).toMatch(/UNAUTHORIZED/);
      expect(text, procedure).toMatch(/Not signed in \(no session\)/);
      expect(text, procedure).not.toContain('"result"');
    }
    expect((await anon.get(`${stack.app.url}/api/metrics`)).status()).toBe(401);
    expect(
      (await anon.get(`${stack.app.url}/api/metrics`, { headers: { authorization: "Bearer wrong-token" } })).status(),
    ).toBe(401);
    expect((await anon.get(`${stack.app.url}/api/metrics`, { headers: metricsHeaders(stack) })).status()).toBe(200);
    const health = await anon.get(`${stack.app.url}/api/health`);
    expect(health.status()).toBe(200);
    expect(Object.keys((await json(health)) as object)).toEqual(["status"]);
    const scraped = (await json(
      await anon.get(`${stack.app.url}/api/health`, { headers: metricsHeaders(stack) }),
    )) as Record<string, unknown>;
    expect(scraped).toHaveProperty("questdb.breaker");

    // The probe: every route, no redirect followed, against words only an operator may see.
    const { signInThroughProvider } = await import("./fixtures");
    const cookies = await signInThroughProvider(browser, stack.app.url, stack.auth!.provider.users.operator);
    const operator = await playwright.request.newContext({ storageState: { cookies, origins: [] } });
    const secrets = await secretsOf(stack, operator);
    const routes = [
      "/",
      "/?symbol=BTC-USD",
      "/not-allowed",
      "/signed-out",
      "/auth/error?reason=provider_unreachable",
      "/api/health",
      "/api/metrics",
      "/api/auth/callback?code=x&state=y",
      "/api/auth/signin",
      "/no-such-page",
      ...PROCEDURES.map((p) => `/api/trpc/${p}`),
    ];
    for (const route of routes) {
      const res = await anon.get(`${stack.app.url}${route}`, { maxRedirects: 0 });
      const body = (await res.text()).toLowerCase();
      for (const secret of secrets)
        expect(body, `${route} (${res.status()}) must not show ${secret}`).not.toContain(secret.toLowerCase());
      if (route === "/" || route.startsWith("/?") || route === "/not-allowed" || route === "/no-such-page") {
        expect(res.status(), route).toBe(303);
        expect(res.headers().location, route).toContain("/api/auth/signin?returnTo=");
      }
    }
    await operator.dispose();
    await anon.dispose();
  });

  test("tampered, expired and foreign-key session cookies are signed out: 401, redirect to sign-in, no data", async ({
    playwright,
    stack,
  }) => {
    const { cookie: valid, sid } = await signedInSession(stack, playwright);
    const user = { sub: "alice", name: "Alice Operator", email: "alice@example.test", groups: ["operators"], sid };
    const cookies = {
      valid,
      tampered: `${valid.slice(0, -6)}${valid.slice(-6) === "AAAAAA" ? "BBBBBB" : "AAAAAA"}`,
      expired: await sealFor(stack, user, { nowMs: Date.now() - 9 * 3600_000 }),
      "foreign key": await sealFor(stack, user, { secret: "another-deployment-secret-of-48-characters-long!!" }),
      // The same key and provider, another client (a staging deployment sharing the secret).
      "another client": await sealFor(stack, user, { clientId: "staging-dashboard" }),
    };
    for (const [kind, cookie] of Object.entries(cookies)) {
      const context = await playwright.request.newContext({ extraHTTPHeaders: { cookie: `qdb_session=${cookie}` } });
      const trpc = await context.get(`${stack.app.url}/api/trpc/sessions.active`);
      const page = await context.get(`${stack.app.url}/`, { maxRedirects: 0 });
      const health = (await json(await context.get(`${stack.app.url}/api/health`))) as object;
      if (kind === "valid") {
        expect(trpc.status(), kind).toBe(200);
        expect(page.status(), kind).toBe(200);
        expect(health, kind).toHaveProperty("questdb");
      } else {
        expect(trpc.status(), kind).toBe(401);
        expect(await trpc.text(), kind).toMatch(
          kind === "expired" ? /the session has expired/ : /the session cookie is not valid/,
        );
        expect(page.status(), kind).toBe(303);
        expect(page.headers().location, kind).toMatch(/\/api\/auth\/signin\?returnTo=%2F$/);
        expect(Object.keys(health), kind).toEqual(["status"]);
      }
      await context.dispose();
    }
  });

  test("the return-to address after sign-in is a path on this site only", async ({ page, stack }) => {
    const { signInAtProvider } = await import("../harness/oidc-provider-process");
    let first = true;
    const returnTos = [
      "https://evil.example/steal",
      "//evil.example/steal",
      "/\\evil.example/steal",
      // Dot-segments that normalise into "//evil.example" (the browser was sent there before).
      "/.//evil.example/steal",
      "/..//evil.example/steal",
      "/%2e//evil.example/steal",
      "/x/..//evil.example/steal",
    ];
    for (const returnTo of returnTos) {
      await page.goto(`${stack.app.url}/api/auth/signin?returnTo=${encodeURIComponent(returnTo)}`);
      // The provider remembers its own session: the form only comes the first time.
      if (first) await signInAtProvider(page, stack.auth!.provider.users.operator);
      first = false;
      await expect(page).toHaveURL(`${stack.app.url}/`);
      await expect(page.getByTestId("sessions-row").first()).toBeVisible();
    }
  });
});

test.describe("a session ending", () => {
  test.use({ signedInAs: null });

  test("a session that ends under an open, streaming page sends it through sign-in and back, instead of calling the server unreachable", async ({
    page,
    playwright,
    stack,
  }) => {
    const { sid } = await signedInSession(stack, playwright);
    const user = { sub: "alice", name: "Alice Operator", email: "alice@example.test", groups: ["operators"], sid };
    // A session with 8 seconds left.
    const ending = await sealFor(stack, user, { nowMs: Date.now() - (8 * 3600 - 8) * 1000 });
    await page
      .context()
      .addCookies([{ name: "qdb_session", value: ending, url: stack.app.url, httpOnly: true, sameSite: "Lax" }]);
    await page.goto(stack.app.url);
    await expect(page.getByTestId("page-status")).toHaveText("Live");
    await expect(page.getByTestId("page-status")).toHaveAttribute("data-transport", "sse");

    await expect(page).toHaveURL(new RegExp(`^${stack.auth!.provider.issuer}/`), { timeout: 40_000 });
    const { signInAtProvider } = await import("../harness/oidc-provider-process");
    await signInAtProvider(page, stack.auth!.provider.users.operator);
    await expect(page).toHaveURL(`${stack.app.url}/`);
    await expect(page.getByTestId("sessions-row").first()).toBeVisible();
    await expect(page.getByTestId("app-unreachable-banner")).toHaveCount(0);
  });
});

test.describe("a user outside OIDC_ALLOWED_GROUPS", () => {
  test.use({ signedInAs: "visitor" });

  test("gets a clear 'not allowed' page and no data anywhere (403)", async ({ page, request, stack }) => {
    await page.goto(stack.app.url);
    await expect(page).toHaveURL(`${stack.app.url}/not-allowed`);
    await expect(page.getByTestId("not-allowed")).toContainText("You are signed in as bob@example.test");
    await expect(page.getByTestId("not-allowed")).toContainText("operators");
    await expect(page.getByTestId("sessions-table")).toHaveCount(0);
    const trpc = await request.get(`${stack.app.url}/api/trpc/sessions.active`);
    expect(trpc.status()).toBe(403);
    expect(await trpc.text()).toMatch(/not in a group allowed/);
    expect(Object.keys((await json(await request.get(`${stack.app.url}/api/health`))) as object)).toEqual(["status"]);
    await page.getByTestId("sign-out").click();
    await expect(page.getByTestId("signed-out")).toBeVisible();
  });
});

test.describe("a groups claim in Keycloak's full-path form", () => {
  test.use({ signedInAs: "fullPath" });

  test("an operator whose claim says /operators is in the group operators", async ({ page, request, stack }) => {
    expect(stack.auth!.provider.users.fullPath.groups).toEqual(["/operators"]);
    await page.goto(stack.app.url);
    await expect(page).toHaveURL(`${stack.app.url}/`);
    await expect(page.getByTestId("sessions-row").first()).toBeVisible();
    expect((await request.get(`${stack.app.url}/api/trpc/sessions.active`)).status()).toBe(200);
  });
});

test.describe("signed in", () => {
  test("sign-out is a same-origin POST: a cross-site one is refused and changes nothing; the page's own button signs out", async ({
    page,
    request,
    stack,
  }) => {
    const crossSite: Array<Record<string, string>> = [
      { origin: "https://evil.example" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
    ];
    for (const headers of crossSite) {
      const res = await request.post(`${stack.app.url}/api/auth/signout`, { headers, maxRedirects: 0 });
      expect(res.status(), JSON.stringify(headers)).toBe(403);
      expect(res.headers()["set-cookie"], JSON.stringify(headers)).toBeUndefined();
    }
    expect((await request.get(`${stack.app.url}/api/trpc/sessions.active`)).status()).toBe(200);

    await page.goto(stack.app.url);
    await expect(page.getByTestId("sessions-row").first()).toBeVisible();
    await page.getByTestId("sign-out").click();
    await expect(page).toHaveURL(`${stack.app.url}/signed-out`);
    expect((await page.context().cookies(stack.app.url)).map((c) => c.name)).not.toContain("qdb_session");
    const after = await page.request.get(`${stack.app.url}/api/trpc/sessions.active`);
    expect(after.status()).toBe(401);
  });

  test("the provider down: a stranger gets a clear error page; the signed-in operator keeps working, through a QuestDB outage too", async ({
    page,
    browser,
    stack,
  }) => {
    await page.goto(stack.app.url);
    await expect(page.getByTestId("sessions-row").first()).toBeVisible();
    await stack.auth!.provider.kill();

    const stranger = await browser.newContext();
    const strangerPage = await stranger.newPage();
    await strangerPage.goto(stack.app.url);
    await expect(strangerPage).toHaveURL(/\/auth\/error\?reason=provider_unreachable/);
    await expect(strangerPage.getByTestId("auth-error")).toContainText("The sign-in service is not answering");
    await expect(strangerPage.getByTestId("sessions-table")).toHaveCount(0);
    await stranger.close();

    // The operator's page goes on: fresh data, then degraded mode while QuestDB is down, then back.
    await page.reload();
    await expect(page.getByTestId("sessions-row").first()).toBeVisible();
    await stack.questdb.kill();
    await expect(page.getByTestId("degraded-banner")).toContainText("Data as of", { timeout: 30_000 });
    await expect(page.getByTestId("sessions-row").first()).toBeVisible();
    await stack.questdb.restart();
    await expect(page.getByTestId("degraded-banner")).toHaveCount(0, { timeout: 30_000 });

    // The provider back: strangers can sign in again, without a restart of the app.
    await stack.auth!.provider.restart();
    const later = await browser.newContext();
    const laterPage = await later.newPage();
    await laterPage.goto(stack.app.url);
    await expect(laterPage.getByRole("button", { name: "Sign in" })).toBeVisible();
    await later.close();
  });

  test("every page has a nonce CSP (no unsafe-inline scripts) and the security headers; Next's scripts carry the nonce; HSTS only over https", async ({
    request,
    stack,
    browser,
    playwright,
  }) => {
    for (const path of ["/", "/not-allowed", "/signed-out", "/auth/error?reason=sign_in_failed"]) {
      const res = await request.get(`${stack.app.url}${path}`, { maxRedirects: 0 });
      const headers = res.headers();
      const csp = headers["content-security-policy"] ?? "";
      const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
      expect(nonce, `${path}: ${csp}`).toBeTruthy();
      const scriptSrc = csp
        .split(";")
        .map((d) => d.trim())
        .find((d) => d.startsWith("script-src"))!;
      expect(scriptSrc, path).not.toContain("unsafe-inline");
      expect(scriptSrc, path).not.toContain("unsafe-eval");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(headers["x-content-type-options"], path).toBe("nosniff");
      expect(headers["referrer-policy"], path).toBe("strict-origin-when-cross-origin");
      expect(headers["permissions-policy"], path).toContain("camera=()");
      expect(headers["strict-transport-security"], path).toBeUndefined();
      if (res.status() === 200) {
        const html = await res.text();
        const scripts = html.match(/<script\b[^>]*>/g) ?? [];
        expect(scripts.length, path).toBeGreaterThan(0);
        for (const tag of scripts) expect(tag, path).toContain(`nonce="${nonce}"`);
      }
    }
    // In the browser: injected markup's inline handler (the classic XSS) is refused, and said so on
    // the console — the message the page fixture of every spec fails on.
    const context = await browser.newContext();
    await context.addCookies(stack.auth!.cookies);
    const probe = await context.newPage();
    const console: string[] = [];
    probe.on("console", (message) => console.push(message.text()));
    await probe.goto(stack.app.url);
    await expect(probe.getByTestId("sessions-row").first()).toBeVisible();
    await probe.evaluate(() => {
      const div = document.createElement("div");
      div.innerHTML = '<img src="/no-such-image.png" onerror="window.injected = true">';
      document.body.appendChild(div);
    });
    await expect.poll(() => console.some((text) => /Content Security Policy/i.test(text))).toBe(true);
    expect(await probe.evaluate(() => (window as unknown as { injected?: boolean }).injected === true)).toBe(false);
    await context.close();

    const api = await request.get(`${stack.app.url}/api/health`);
    expect(api.headers()["x-content-type-options"]).toBe("nosniff");
    // Over https the session is the __Host- cookie (the same sealed value, as a browser would keep it there).
    const session = stack.auth!.cookies.find((c) => c.name === "qdb_session")!.value;
    const https = await playwright.request.newContext({
      extraHTTPHeaders: { "x-forwarded-proto": "https", cookie: `__Host-qdb_session=${session}` },
    });
    const overHttps = await https.get(`${stack.app.url}/`, { maxRedirects: 0 });
    expect(overHttps.status()).toBe(200);
    expect(overHttps.headers()["strict-transport-security"]).toMatch(/^max-age=\d+/);
    expect(overHttps.headers()["content-security-policy"]).toContain("upgrade-insecure-requests");
    await https.dispose();
  });

  test("over https only the __Host- cookie is read: the unprefixed one (plantable by a sibling or over http) is nobody's", async ({
    playwright,
    stack,
  }) => {
    const session = stack.auth!.cookies.find((c) => c.name === "qdb_session")!.value;
    const planted = await playwright.request.newContext({
      extraHTTPHeaders: { "x-forwarded-proto": "https", cookie: `qdb_session=${session}` },
    });
    const page = await planted.get(`${stack.app.url}/`, { maxRedirects: 0 });
    expect(page.status()).toBe(303);
    expect(page.headers().location).toMatch(/\/api\/auth\/signin\?returnTo=%2F$/);
    const trpc = await planted.get(`${stack.app.url}/api/trpc/sessions.active`);
    expect(trpc.status()).toBe(401);
    expect(await trpc.text()).toMatch(/Not signed in \(no session\)/);
    await planted.dispose();

    // Sign-in over https sets its state in a __Host- cookie (path /, Secure).
    const anon = await playwright.request.newContext({ extraHTTPHeaders: { "x-forwarded-proto": "https" } });
    const start = await anon.get(`${stack.app.url}/api/auth/signin?returnTo=%2F`, { maxRedirects: 0 });
    expect(start.status()).toBe(303);
    const setCookie = start.headers()["set-cookie"] ?? "";
    expect(setCookie).toMatch(/^__Host-qdb_signin=[^;]+;/);
    expect(setCookie).toMatch(/Path=\/(;|$)/m);
    expect(setCookie).toMatch(/Secure/i);
    await anon.dispose();
  });
});

test.describe("AUTH_MODE=none", () => {
  test.use({ authMode: "none" });

  test("the page says authentication is off, and everything is open as the operator chose", async ({
    page,
    playwright,
    stack,
  }) => {
    await page.goto(stack.app.url);
    await expect(page.getByTestId("auth-off")).toHaveText("Authentication off");
    await expect(page.getByTestId("sessions-row").first()).toBeVisible();
    const anon = await playwright.request.newContext();
    expect((await anon.get(`${stack.app.url}/api/trpc/sessions.active`)).status()).toBe(200);
    expect((await anon.get(`${stack.app.url}/api/metrics`)).status()).toBe(200);
    await anon.dispose();
  });
});
