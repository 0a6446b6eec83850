import { startApp, type AppProcess } from "../harness/app-process";
import { findFreePort } from "../harness/questdb-process";
import { APP_ENV, expect, test, type Stack } from "./fixtures";
import { cookieHeader, rawGet } from "./raw-http";

/**
 * The edges of the app that a client shapes itself: where sign-in sends the browser back to, which
 * Host the app answers for (PUBLIC_URL), and that no answer with data may be kept by a cache.
 */

/** Paths that normalise into "//evil.example": each once sent the browser to evil.example. */
const DOT_SEGMENT_ESCAPES = [
  "/.//evil.example/phish",
  "/..//evil.example/phish",
  "/%2e//evil.example/phish",
  "/%2E%2E//evil.example/phish",
  "/x/..//evil.example/phish",
  "/./%2e//evil.example/phish",
];

test.describe("AUTH_MODE=none: the sign-in door still never leads off the site", () => {
  test.use({ authMode: "none" });

  test("every return-to form is answered with this site's own address", async ({ request, stack }) => {
    const forms = [...DOT_SEGMENT_ESCAPES, "//evil.example/phish", "/\\evil.example", "https://evil.example/"];
    for (const returnTo of forms) {
      const res = await request.get(`${stack.app.url}/api/auth/signin?returnTo=${encodeURIComponent(returnTo)}`, {
        maxRedirects: 0,
      });
      expect(res.status(), returnTo).toBe(303);
      expect(res.headers().location, returnTo).toBe(`${stack.app.url}/`);
    }
    const kept = await request.get(
      `${stack.app.url}/api/auth/signin?returnTo=${encodeURIComponent("/?symbol=ETH-USD")}`,
      {
        maxRedirects: 0,
      },
    );
    expect(kept.headers().location).toBe(`${stack.app.url}/?symbol=ETH-USD`);
  });
});

/** A second app on the test's QuestDB (and provider), answering only for http://127.0.0.1:<its port>. */
async function startPublicApp(stack: Stack, name: string): Promise<AppProcess> {
  const port = await findFreePort();
  const authEnv: Record<string, string> = stack.auth
    ? {
        AUTH_MODE: "oidc",
        OIDC_ISSUER: stack.auth.provider.issuer,
        OIDC_CLIENT_ID: stack.auth.provider.client.id,
        OIDC_CLIENT_SECRET: stack.auth.provider.client.secret,
        OIDC_ALLOWED_GROUPS: "operators",
        AUTH_SECRET: stack.auth.secret,
        METRICS_TOKEN: stack.auth.metricsToken,
      }
    : { AUTH_MODE: "none" };
  return startApp({
    port,
    logFile: test.info().outputPath(`${name}.log`),
    env: {
      ...APP_ENV,
      ...authEnv,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DASHBOARD_DATA_DIR: test.info().outputPath(`${name}-data`),
      QUESTDB_URL: stack.questdb.pgUrl,
      QUESTDB_HTTP_URL: stack.questdb.httpUrl,
    },
  });
}

const ROUTES = ["/", "/api/health", "/api/metrics", "/api/trpc/sessions.active", "/api/auth/signin?returnTo=%2F"];

for (const authMode of ["none", "oidc"] as const) {
  test.describe(`PUBLIC_URL set, AUTH_MODE=${authMode}`, () => {
    test.use({ authMode });

    test("a request for another Host (DNS rebinding, a forged Host) is refused with 421 on every route", async ({
      stack,
    }) => {
      const app = await startPublicApp(stack, `public-app-${authMode}`);
      try {
        const port = new URL(app.url).port;
        const cookie = stack.auth ? cookieHeader(stack.auth.cookies) : "";
        for (const route of ROUTES) {
          for (const host of ["evil.example", `evil.example:${port}`, `localhost:${port}`]) {
            const res = await rawGet(app.url, route, { headers: { host, cookie } });
            expect(res.status, `${host} ${route}`).toBe(421);
            expect(res.body, `${host} ${route}`).toContain(`http://127.0.0.1:${port}`);
            expect(res.body, `${host} ${route}`).not.toMatch(/sessionId|breaker/);
          }
        }
        // Its own address is served as ever. (With oidc the stack's session lives in the first app's
        // session store, not this one's data directory: the Host passes and the session is unknown.)
        const own = await rawGet(app.url, "/api/trpc/sessions.active", {
          headers: { host: `127.0.0.1:${port}`, cookie },
        });
        expect(own.status).toBe(authMode === "none" ? 200 : 401);
        // Sign-in's redirect names PUBLIC_URL, not the Host header.
        const signIn = await rawGet(app.url, "/api/auth/signin?returnTo=%2F", {
          headers: { host: `127.0.0.1:${port}` },
        });
        expect(signIn.status).toBe(303);
        if (authMode === "none") expect(signIn.headers.location).toBe(`http://127.0.0.1:${port}/`);
        expect(app.unhandledErrors()).toEqual([]);
      } finally {
        await app.stop();
      }
    });
  });
}

test.describe("answers with data are never cached", () => {
  test("Cache-Control: no-store on every tRPC answer (ok, 400, 401, batch, stream) and on /api/health", async ({
    request,
    playwright,
    stack,
  }) => {
    const input = (value: unknown) => encodeURIComponent(JSON.stringify(value));
    const answers = {
      ok: await request.get(`${stack.app.url}/api/trpc/sessions.active`),
      "bad input": await request.get(`${stack.app.url}/api/trpc/sessions.active?input=${input({ limit: 0 })}`),
      batch: await request.get(`${stack.app.url}/api/trpc/sessions.active,health.status?batch=1&input=${input({})}`),
      health: await request.get(`${stack.app.url}/api/health`),
    };
    expect(answers.ok.status()).toBe(200);
    expect(answers["bad input"].status()).toBe(400);
    for (const [kind, res] of Object.entries(answers)) expect(res.headers()["cache-control"], kind).toBe("no-store");

    const anon = await playwright.request.newContext();
    const unauthorized = await anon.get(`${stack.app.url}/api/trpc/sessions.active`);
    expect(unauthorized.status()).toBe(401);
    expect(unauthorized.headers()["cache-control"]).toBe("no-store");
    expect((await anon.get(`${stack.app.url}/api/health`)).headers()["cache-control"]).toBe("no-store");
    await anon.dispose();

    // A live stream's answer (SSE), read until its headers arrive.
    const controller = new AbortController();
    const stream = await fetch(`${stack.app.url}/api/trpc/sessions.onActive?input=${input({})}`, {
      headers: { cookie: cookieHeader(stack.auth!.cookies), accept: "text/event-stream" },
      signal: controller.signal,
    });
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    // no-transform too: no proxy (nor Next's own compression) may hold back or re-encode a live stream.
    expect(stream.headers.get("cache-control")).toBe("no-store, no-transform");
    // Asked with gzip, as a browser asks: the stream is not compressed (one zlib per viewer per event).
    const gzipAsked = await fetch(`${stack.app.url}/api/trpc/sessions.onActive?input=${input({})}`, {
      headers: {
        cookie: cookieHeader(stack.auth!.cookies),
        accept: "text/event-stream",
        "accept-encoding": "gzip, deflate, br",
      },
    });
    expect(gzipAsked.headers.get("content-encoding")).toBeNull();
    await gzipAsked.body?.cancel();
    controller.abort();
  });
});
