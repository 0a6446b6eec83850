import type { APIRequestContext } from "@playwright/test";
import { signInAtProvider } from "../harness/oidc-provider-process";
import { expect, test, type Stack } from "./fixtures";
import { cookieHeader } from "./raw-http";

/**
 * Revocable sessions against the real test provider (issue 20, hole 4): sign-out ends the session
 * on the server (a replayed cookie gets 401, a stream open elsewhere ends) and at the provider (the
 * next sign-in asks for a password); an account removed from the allowed group or disabled at the
 * provider is out within the re-check interval (AUTH_RECHECK_MINUTES, 3 s here). Before revocable
 * sessions, each of these went on for the cookie's 8 hours.
 */

const SESSIONS = "/api/trpc/sessions.active";
const RECHECK_MINUTES = "0.05";

/** A live stream of this cookie's session, read in the background: resolves when the server ends it. */
async function openStream(stack: Stack): Promise<{ ended: Promise<number>; close: () => void }> {
  const controller = new AbortController();
  const started = Date.now();
  const res = await fetch(`${stack.app.url}/api/trpc/sessions.onActive?input=${encodeURIComponent("{}")}`, {
    headers: { cookie: cookieHeader(stack.auth!.cookies), accept: "text/event-stream" },
    signal: controller.signal,
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const ended = (async () => {
    try {
      while (!(await reader.read()).done) {
        // events and pings: the stream is alive
      }
    } catch {
      // aborted by close()
    }
    return Date.now() - started;
  })();
  return { ended, close: () => controller.abort() };
}

/** Another device holding a copy of the signed-in cookie, let in before anything happens. */
async function replaying(
  playwright: { request: { newContext: (o: object) => Promise<APIRequestContext> } },
  stack: Stack,
): Promise<APIRequestContext> {
  const copy = await playwright.request.newContext({ extraHTTPHeaders: { cookie: cookieHeader(stack.auth!.cookies) } });
  expect((await copy.get(`${stack.app.url}${SESSIONS}`)).status()).toBe(200);
  return copy;
}

/** The copy is refused (401) within a few re-check intervals. */
async function shutOut(copy: APIRequestContext, stack: Stack): Promise<void> {
  await expect
    .poll(async () => (await copy.get(`${stack.app.url}${SESSIONS}`)).status(), { timeout: 20_000 })
    .toBe(401);
}

test.describe("sign-out", () => {
  test("ends the session: the replayed cookie gets 401, a stream open elsewhere ends, the provider's session ends too", async ({
    page,
    playwright,
    stack,
  }) => {
    const copy = await replaying(playwright, stack);
    const stream = await openStream(stack);
    const logoutsBefore = await stack.auth!.provider.completedLogouts();

    await page.goto(stack.app.url);
    await expect(page.getByTestId("sessions-row").first()).toBeVisible();
    await page.getByTestId("sign-out").click();
    // Through the provider's end_session endpoint and back.
    await expect(page).toHaveURL(`${stack.app.url}/signed-out`);

    const replayed = await copy.get(`${stack.app.url}${SESSIONS}`);
    expect(replayed.status()).toBe(401);
    expect(await replayed.text()).toMatch(/Not signed in/);
    const endedAfterMs = await Promise.race([
      stream.ended,
      new Promise<number>((r) => setTimeout(() => r(-1), 10_000)),
    ]);
    stream.close();
    expect(endedAfterMs, "the other stream must end after sign-out").toBeGreaterThan(0);
    expect(await stack.auth!.provider.completedLogouts()).toBe(logoutsBefore + 1);

    // "Sign in again" on a shared screen asks for the password: the provider's session is gone.
    await page.getByTestId("sign-in-again").click();
    await expect(page.locator('input[name="password"]')).toBeVisible();
    await copy.dispose();
  });
});

test.describe("a change at the provider", () => {
  test.use({ appEnv: { AUTH_RECHECK_MINUTES: RECHECK_MINUTES } });

  test("removed from the allowed group: out within the re-check interval, the open page and stream too", async ({
    page,
    playwright,
    stack,
  }) => {
    const copy = await replaying(playwright, stack);
    await page.goto(stack.app.url);
    await expect(page.getByTestId("sessions-row").first()).toBeVisible();
    const stream = await openStream(stack);

    await stack.auth!.provider.changeAccount("alice", { groups: ["visitors"] });
    const removedAt = Date.now();
    await shutOut(copy, stack);
    expect(Date.now() - removedAt).toBeLessThan(15_000);
    const endedAfterMs = await Promise.race([
      stream.ended,
      new Promise<number>((r) => setTimeout(() => r(-1), 15_000)),
    ]);
    stream.close();
    expect(endedAfterMs, "the open stream must end").toBeGreaterThan(0);
    // The open page is sent to sign in again; signed in, it is told it is not allowed.
    await expect(page).toHaveURL(new RegExp(`^${stack.auth!.provider.issuer}/`), { timeout: 30_000 });
    await signInAtProvider(page, stack.auth!.provider.users.operator);
    await expect(page).toHaveURL(`${stack.app.url}/not-allowed`);
    await expect(page.getByTestId("not-allowed")).toContainText("visitors");
    await copy.dispose();
  });

  test("disabled at the provider: out within the re-check interval; back in after being enabled and signing in", async ({
    page,
    playwright,
    stack,
  }) => {
    const copy = await replaying(playwright, stack);
    await stack.auth!.provider.changeAccount("alice", { disabled: true });
    await shutOut(copy, stack);

    await stack.auth!.provider.changeAccount("alice", { disabled: false });
    await page.context().clearCookies();
    await page.goto(stack.app.url);
    await signInAtProvider(page, stack.auth!.provider.users.operator);
    await expect(page.getByTestId("sessions-row").first()).toBeVisible();
    await copy.dispose();
  });

  test("the provider down at a re-check: the operator keeps working", async ({ page, stack }) => {
    await page.goto(stack.app.url);
    await expect(page.getByTestId("sessions-row").first()).toBeVisible();
    await stack.auth!.provider.kill();
    await new Promise((r) => setTimeout(r, 8_000)); // more than two re-check intervals
    await page.reload();
    await expect(page.getByTestId("sessions-row").first()).toBeVisible();
    expect((await page.request.get(`${stack.app.url}${SESSIONS}`)).status()).toBe(200);
  });
});
