import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPidAlive } from "./proc";
import { startOidcProvider, type OidcProviderProcess, type TestUser } from "./oidc-provider-process";

/**
 * The OIDC test provider for real, as a child process: discovery, a whole authorization-code +
 * PKCE sign-in done with openid-client (the provider's pages driven with plain fetch, its cookies
 * carried by hand), a wrong password refused, and a SIGKILL and restart that keep port and keys.
 */

const REDIRECT_URI = "http://127.0.0.1:9/auth/callback";

/** The provider's cookies by name (their paths are ignored: every request here goes to it). */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(res: Response): void {
    for (const header of res.headers.getSetCookie()) {
      const [pair = ""] = header.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === "" || /expires=Thu, 01 Jan 1970/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }
}

/** One request to the provider, redirects not followed, its cookies carried. */
async function request(
  jar: CookieJar,
  url: URL | string,
  init: RequestInit = {},
): Promise<{ status: number; location: string | null; body: string }> {
  const res = await fetch(url, { ...init, redirect: "manual", headers: { ...init.headers, cookie: jar.header() } });
  jar.store(res);
  return { status: res.status, location: res.headers.get("location"), body: await res.text() };
}

interface SignInAttempt {
  config: client.Configuration;
  verifier: string;
  state: string;
  /** The response to posting the login form. */
  login: { status: number; location: string | null; body: string };
  /** Where the browser ends up after the login: the redirect URI with a code, when it worked. */
  callback?: URL;
}

/** What a browser does: authorization request, the login form, posting it, and the resume redirect. */
async function signIn(provider: OidcProviderProcess, login: string, password: string): Promise<SignInAttempt> {
  const config = await client.discovery(
    new URL(provider.issuer),
    provider.client.id,
    provider.client.secret,
    undefined,
    {
      execute: [client.allowInsecureRequests],
    },
  );
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: "openid profile email",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
  });
  const jar = new CookieJar();
  const toLogin = await request(jar, authorizationUrl);
  expect(toLogin.status).toBe(303);
  const formUrl = new URL(toLogin.location ?? "", provider.issuer);
  const form = await request(jar, formUrl);
  expect(form.status).toBe(200);
  expect(form.body).toMatch(/<input name="login"/);
  expect(form.body).toMatch(/<input name="password" type="password"/);
  expect(form.body).toMatch(/<button type="submit">Sign in<\/button>/);
  const action = /<form method="post" action="([^"]+)"/.exec(form.body)?.[1];
  expect(action).toBe(formUrl.pathname);

  const posted = await request(jar, new URL(action ?? "", provider.issuer), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ login, password }).toString(),
  });
  const attempt: SignInAttempt = { config, verifier, state, login: posted };
  if (posted.status !== 303) return attempt;
  const resumed = await request(jar, new URL(posted.location ?? "", provider.issuer));
  expect(resumed.status).toBe(303);
  attempt.callback = new URL(resumed.location ?? "");
  return attempt;
}

/** A sign-in that must work: the code exchanged for tokens (PKCE and state checked by openid-client). */
async function signInForTokens(provider: OidcProviderProcess, user: TestUser) {
  const attempt = await signIn(provider, user.login, user.password);
  expect(attempt.callback?.origin + (attempt.callback?.pathname ?? "")).toBe(REDIRECT_URI);
  const tokens = await client.authorizationCodeGrant(attempt.config, attempt.callback as URL, {
    pkceCodeVerifier: attempt.verifier,
    expectedState: attempt.state,
  });
  return { config: attempt.config, tokens };
}

async function jwksKeys(provider: OidcProviderProcess): Promise<unknown> {
  const res = await fetch(`${provider.issuer}/jwks`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { keys: unknown }).keys;
}

describe("startOidcProvider", () => {
  let provider: OidcProviderProcess;

  beforeAll(async () => {
    provider = await startOidcProvider({ redirectUris: [REDIRECT_URI] });
  });

  afterAll(async () => {
    await provider?.stop();
  });

  it("answers discovery with its issuer and the authorization, token and JWKS endpoints", async () => {
    expect(provider.issuer).toBe(`http://127.0.0.1:${provider.port}`);
    expect(provider.isRunning()).toBe(true);
    const res = await fetch(`${provider.issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const discovery = (await res.json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({
      issuer: provider.issuer,
      authorization_endpoint: `${provider.issuer}/auth`,
      token_endpoint: `${provider.issuer}/token`,
      jwks_uri: `${provider.issuer}/jwks`,
      end_session_endpoint: `${provider.issuer}/session/end`,
    });
    expect(discovery.claims_supported).toEqual(expect.arrayContaining(["sub", "name", "email", "groups"]));
  });

  it("signs alice in with a code and PKCE: the ID token and userinfo carry name, email and groups", async () => {
    const alice = provider.users.operator;
    const { config, tokens } = await signInForTokens(provider, alice);
    expect(tokens.claims()).toMatchObject({
      iss: provider.issuer,
      aud: provider.client.id,
      sub: "alice",
      name: "Alice Operator",
      email: "alice@example.test",
      groups: ["operators"],
    });
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, "alice");
    expect(userinfo).toMatchObject({
      sub: "alice",
      name: "Alice Operator",
      email: "alice@example.test",
      groups: ["operators"],
    });
  });

  it("gives bob the visitors group", async () => {
    const { tokens } = await signInForTokens(provider, provider.users.visitor);
    expect(tokens.claims()).toMatchObject({
      sub: "bob",
      name: "Bob Visitor",
      email: "bob@example.test",
      groups: ["visitors"],
    });
  });

  it("refuses a wrong password: the form again with an error, no redirect, no code", async () => {
    const attempt = await signIn(provider, "alice", "not-alices-password");
    expect(attempt.login.status).toBe(401);
    expect(attempt.login.location).toBeNull();
    expect(attempt.login.body).toContain("Wrong login or password.");
    expect(attempt.login.body).toMatch(/<input name="login" value="alice"/);
    expect(attempt.callback).toBeUndefined();
  });

  it("refuses an authorization request without PKCE", async () => {
    const url = new URL(`${provider.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: provider.client.id,
      response_type: "code",
      scope: "openid",
      redirect_uri: REDIRECT_URI,
    }).toString();
    const res = await request(new CookieJar(), url);
    expect(res.status).toBe(303);
    const back = new URL(res.location ?? "");
    expect(back.searchParams.get("error")).toBe("invalid_request");
    expect(back.searchParams.get("code")).toBeNull();
  });

  it("kill() refuses connections; restart() answers on the same port with the same keys and client", async () => {
    const { port, pid } = provider;
    const keysBefore = await jwksKeys(provider);
    expect(keysBefore).toHaveLength(1);

    await provider.kill();
    expect(provider.isRunning()).toBe(false);
    expect(isPidAlive(pid)).toBe(false);
    const refused = await fetch(`${provider.issuer}/.well-known/openid-configuration`).then(
      () => "answered",
      (error: Error & { cause?: { code?: string } }) => error.cause?.code,
    );
    expect(refused).toBe("ECONNREFUSED");

    await provider.restart();
    expect(provider.port).toBe(port);
    expect(provider.pid).not.toBe(pid);
    expect(provider.isRunning()).toBe(true);
    expect(await jwksKeys(provider)).toEqual(keysBefore);
    const { tokens } = await signInForTokens(provider, provider.users.operator);
    expect(tokens.claims()?.groups).toEqual(["operators"]);
  });
});
