import http, { type IncomingMessage, type ServerResponse } from "node:http";
// @ts-expect-error -- oidc-provider 8 ships no type declarations; the few parts used are typed below.
import Provider from "oidc-provider";
import { TEST_USERS, type TestUser } from "./oidc-provider-process";

/**
 * The OpenID Connect provider of the end-to-end tests, a program of its own so that a test can
 * SIGKILL it and start it again (harness/oidc-provider-process.ts launches it as
 * `node --import tsx harness/oidc-test-provider.ts`, one process): a real
 * `oidc-provider` with one confidential client, PKCE required (its default), three users with fixed passwords and
 * a login form that refuses a wrong one, no consent screen, and the `groups` claim in the ID token.
 * Refresh tokens are issued (the dashboard re-checks a session's account with them) and logout
 * (end_session) is on. A test-only admin hook changes an account at run time — its groups, or
 * disabled — as an administrator would at a real provider: `POST /test-admin/accounts/<login>`
 * with `{ groups?, disabled? }`, and `GET /test-admin/stats` counts completed logouts; both need
 * `Authorization: Bearer <client secret>`.
 * Plain http on 127.0.0.1, sessions in memory. Configured by the launcher's environment:
 *   OIDC_PORT, OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET,
 *   OIDC_REDIRECT_URIS, OIDC_POST_LOGOUT_REDIRECT_URIS (comma-separated),
 *   OIDC_JWKS (the private signing keys as a JWK Set, made once by the launcher so a restart keeps them).
 */

/** The parts of an oidc-provider 8 request context used here. */
interface Ctx {
  body: string;
  oidc: {
    client?: { clientId: string };
    session: { accountId?: string };
    requestParamScopes: Set<string>;
    requestParamClaims: Set<string>;
    provider: { Grant: new (init: { accountId: string; clientId: string }) => Grant };
  };
}
interface Grant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  save(): Promise<string>;
}
interface Interaction {
  uid: string;
  prompt: { name: string };
}
interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: object,
    options: { mergeWithLastSubmission: boolean },
  ): Promise<void>;
  on(event: string, listener: (ctx: unknown, error: Error) => void): void;
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`oidc-test-provider: ${name} is not set`);
  return value;
}

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

const port = Number(env("OIDC_PORT"));
const issuer = env("OIDC_ISSUER");
// Copies: the admin hook changes them at run time.
const users: TestUser[] = Object.values(TEST_USERS).map((user) => ({ ...user, groups: [...user.groups] }));
const disabled = new Set<string>();
let completedLogouts = 0;

function accountClaims(user: TestUser) {
  return { sub: user.login, name: user.name, email: user.email, email_verified: true, groups: user.groups };
}

const provider = new (Provider as new (issuer: string, configuration: object) => OidcProvider)(issuer, {
  clients: [
    {
      client_id: env("OIDC_CLIENT_ID"),
      client_secret: env("OIDC_CLIENT_SECRET"),
      redirect_uris: list(process.env.OIDC_REDIRECT_URIS),
      post_logout_redirect_uris: list(process.env.OIDC_POST_LOGOUT_REDIRECT_URIS),
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      // One method per client in oidc-provider; `post` is what openid-client 6 uses for a secret string.
      token_endpoint_auth_method: "client_secret_post",
    },
  ],
  responseTypes: ["code"],
  // Without offline_access too: the dashboard asks again with it while the provider session lives.
  issueRefreshToken: async () => true,
  jwks: JSON.parse(env("OIDC_JWKS")) as object,
  // Signed cookies, and `lax` for the long one too: the default `SameSite=None` without `Secure`
  // (plain http) is dropped by browsers, and the session would never stick.
  cookies: {
    keys: ["oidc-test-provider cookie key (tests only)"],
    long: { signed: true, httpOnly: true, sameSite: "lax" },
    short: { signed: true, httpOnly: true, sameSite: "lax" },
  },
  claims: { openid: ["sub"], profile: ["name", "groups"], email: ["email", "email_verified"] },
  // Scope-requested claims go into the ID token too, not only into userinfo.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true, logoutSource },
  },
  interactions: { url: (_ctx: unknown, interaction: Interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx: unknown, id: string) {
    // A disabled account is not found: a refresh with its token is refused (invalid_grant).
    const user = disabled.has(id) ? undefined : users.find((u) => u.login === id);
    return user && { accountId: id, claims: () => accountClaims(user) };
  },
  // A first-party client: the user's grant is made on the spot with what was asked for, so no
  // consent screen is shown and a correct login goes straight back with a code.
  async loadExistingGrant(ctx: Ctx) {
    const { client, session, provider: p } = ctx.oidc;
    if (!client || !session.accountId) return undefined;
    const grant = new p.Grant({ accountId: session.accountId, clientId: client.clientId });
    grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(" "));
    grant.addOIDCClaims([...ctx.oidc.requestParamClaims]);
    await grant.save();
    return grant;
  },
});

/** The end_session confirmation submits itself: the RP asked for the logout, nobody has to click. */
function logoutSource(ctx: Ctx, form: string): void {
  ctx.body = page(
    "Sign out",
    `${form}<input type="hidden" form="op.logoutForm" name="logout" value="yes">
    <button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>
    <script>document.getElementById("op.logoutForm").submit()</script>`,
  );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
}

function loginForm(uid: string, login: string, error?: string): string {
  return page(
    "Sign in to the test identity provider",
    `${error ? `<p role="alert">${escapeHtml(error)}</p>` : ""}
    <form method="post" action="/interaction/${uid}">
      <label>Login <input name="login" value="${escapeHtml(login)}" autocomplete="username" autofocus></label>
      <label>Password <input name="password" type="password" autocomplete="current-password"></label>
      <button type="submit">Sign in</button>
    </form>`,
  );
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = "";
  for await (const chunk of req) body += String(chunk);
  return body;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams(await readBody(req));
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(html);
}

/** GET /interaction/:uid shows the login form; POST checks the password and finishes the login. */
async function interaction(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name !== "login") {
    send(res, 400, page("Unexpected prompt", `<p>${escapeHtml(details.prompt.name)}</p>`));
    return;
  }
  if (req.method !== "POST") {
    send(res, 200, loginForm(details.uid, ""));
    return;
  }
  const form = await readForm(req);
  const login = form.get("login") ?? "";
  const user = users.find((u) => u.login === login && u.password === form.get("password") && !disabled.has(login));
  if (!user) {
    send(res, 401, loginForm(details.uid, login, "Wrong login or password."));
    return;
  }
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: user.login } },
    { mergeWithLastSubmission: false },
  );
}

/** The test-only admin hook (see the top of this file): change an account, or read the counts. */
async function testAdmin(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (req.headers.authorization !== `Bearer ${env("OIDC_CLIENT_SECRET")}`) return json(401, { error: "no" });
  if (req.method === "GET" && req.url === "/test-admin/stats") return json(200, { completedLogouts });
  const login = /^\/test-admin\/accounts\/([^/]+)$/.exec(req.url ?? "")?.[1];
  const user = users.find((u) => u.login === login);
  if (req.method !== "POST" || !user) return json(404, { error: "no such account" });
  const change = JSON.parse((await readBody(req)) || "{}") as { groups?: string[]; disabled?: boolean };
  if (change.groups) user.groups = change.groups;
  if (change.disabled === true) disabled.add(user.login);
  if (change.disabled === false) disabled.delete(user.login);
  json(200, { login: user.login, groups: user.groups, disabled: disabled.has(user.login) });
}

const callback = provider.callback();
provider.on("server_error", (_ctx, error) => console.error("oidc-test-provider server_error:", error));
provider.on("end_session.success", () => {
  completedLogouts += 1;
});

const server = http.createServer((req, res) => {
  if (req.url?.startsWith("/test-admin/")) {
    testAdmin(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 400, page("Admin hook failed", `<p>${escapeHtml(String(error))}</p>`));
    });
    return;
  }
  if (!req.url?.startsWith("/interaction/")) {
    callback(req, res);
    return;
  }
  interaction(req, res).catch((error: unknown) => {
    console.error("oidc-test-provider interaction failed:", error);
    if (!res.headersSent) send(res, 400, page("Sign-in failed", `<p>${escapeHtml(String(error))}</p>`));
  });
});

server.once("error", (error: NodeJS.ErrnoException) => {
  // "address already in use" is what the launcher looks for to try another port.
  console.error(
    `oidc-test-provider cannot listen on 127.0.0.1:${port}: ${error.code === "EADDRINUSE" ? "address already in use" : error.message}`,
  );
  process.exit(1);
});

server.listen(port, "127.0.0.1", () => console.log(`oidc-test-provider ready: ${issuer}`));

process.once("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
