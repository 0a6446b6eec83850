import { expect, test } from "./fixtures";

test.use({ appEnv: { RATE_LIMIT_PER_MINUTE: "30" } });

const SESSIONS = "/api/trpc/sessions.active";

test("a noisy client gets 429 with Retry-After and a message; the page, another client, keeps its data", async ({
  page,
  request,
  stack,
}) => {
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
