import { expect, metricsHeaders, test } from "./fixtures";
import { cookieHeader, rawGet } from "./raw-http";

const SESSIONS = "/api/trpc/sessions.active";

test.describe("behind one trusted proxy (TRUST_PROXY_HOPS=1)", () => {
  test.use({ appEnv: { RATE_LIMIT_PER_MINUTE: "30", TRUST_PROXY_HOPS: "1" } });

  test("a noisy client gets 429 with Retry-After and a message; the page, another client, keeps its data", async ({
    page,
    request,
    stack,
  }) => {
    // As the proxy would forward it: the client's address appended last.
    const noisy = { "x-forwarded-for": "203.0.113.9" };
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof request.get>> | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const input = encodeURIComponent(JSON.stringify({ limit: i + 1 }));
      const res = await request.get(`${stack.app.url}${SESSIONS}?input=${input}`, { headers: noisy });
      statuses.push(res.status());
      if (res.status() === 429) refused = res;
    }
    expect(statuses.slice(0, 30).every((s) => s === 200)).toBe(true);
    expect(refused?.status()).toBe(429);
    expect(Number(refused?.headers()["retry-after"])).toBeGreaterThan(0);
    const body = (await refused!.json()) as { error: { message: string; data: { code: string } } };
    expect(body.error.data.code).toBe("TOO_MANY_REQUESTS");
    expect(body.error.message).toMatch(
      /^Too many requests from this client: at most 30 calls a minute; try again in \d+ s$/,
    );

    // A batch costs one point per procedure: the noisy client stays refused, whatever it sends.
    const batch = await request.get(`${stack.app.url}/api/trpc/sessions.active,health.status?batch=1&input=%7B%7D`, {
      headers: noisy,
    });
    expect(batch.status()).toBe(429);

    // The page is another client: its data and its polling are untouched.
    await page.goto(stack.app.url);
    await expect(page.getByTestId("sessions-row").first()).toBeVisible();
    await expect(page.getByTestId("error-state")).toHaveCount(0);
    await expect(page.getByTestId("page-status")).toHaveText("Live");
  });
});

test.describe("reached directly (TRUST_PROXY_HOPS=0, the default)", () => {
  test.use({ appEnv: { RATE_LIMIT_PER_MINUTE: "30" } });

  test("a client cannot pick its own key with X-Forwarded-For: a new forged address every call is still refused", async ({
    request,
    stack,
  }) => {
    const statuses: number[] = [];
    for (let i = 1; i <= 40; i++) {
      const res = await request.get(`${stack.app.url}${SESSIONS}`, {
        headers: { "x-forwarded-for": `198.51.100.${i}` },
      });
      statuses.push(res.status());
    }
    expect(statuses.slice(0, 25).every((s) => s === 200)).toBe(true);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(10);
    // Another socket (another loopback address) is another client, with a full budget.
    const other = await rawGet(stack.app.url, SESSIONS, {
      headers: { cookie: cookieHeader(stack.auth!.cookies) },
      localAddress: "127.0.0.2",
    });
    expect(other.status).toBe(200);
  });

  test("a path with a broken % escape is a 400, never a 500, and it is counted by the limit first", async ({
    stack,
  }) => {
    const statuses: number[] = [];
    for (let i = 0; i < 35; i++) statuses.push((await rawGet(stack.app.url, "/api/trpc/sessions.active%zz")).status);
    expect(statuses).not.toContain(500);
    expect(statuses.slice(0, 25).every((s) => s === 400)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    const bad = await rawGet(stack.app.url, "/api/trpc/sessions.active%E0%A4%A", { localAddress: "127.0.0.2" });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/BAD_REQUEST/);
    expect(bad.headers["cache-control"]).toBe("no-store");
  });

  test("/api/health and /api/metrics are rate-limited too, each in a budget of its own", async ({ request, stack }) => {
    for (const [path, headers] of [
      ["/api/health", {}],
      ["/api/metrics", metricsHeaders(stack)],
    ] as const) {
      const statuses: number[] = [];
      let refused: Awaited<ReturnType<typeof request.get>> | undefined;
      for (let i = 0; i < 40 && !refused; i++) {
        const res = await request.get(`${stack.app.url}${path}`, { headers });
        statuses.push(res.status());
        if (res.status() === 429) refused = res;
      }
      expect(
        statuses.slice(0, 25).every((s) => s === 200),
        `${path}: ${statuses.join(",")}`,
      ).toBe(true);
      expect(refused?.status(), path).toBe(429);
      expect(Number(refused?.headers()["retry-after"]), path).toBeGreaterThan(0);
      expect(((await refused!.json()) as { error: string }).error, path).toMatch(/^Too many requests/);
    }
    // The page's tRPC budget is untouched by them.
    expect((await request.get(`${stack.app.url}${SESSIONS}`)).status()).toBe(200);
  });
});
