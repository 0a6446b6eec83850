import { spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Page } from "@playwright/test";
import { RestartableChild, isBindFailure } from "./restartable-child";
import { startOnFreePort } from "./start-on-free-port";

/**
 * A real OpenID Connect provider for the sign-in tests (harness/oidc-test-provider.ts, run by
 * node with tsx's loader) on a free loopback port, killed with this process. Tests SIGKILL it to make the identity
 * provider "down" and restart it on the same port with the same signing keys and client, so tokens
 * issued before the crash still verify. Ready once its discovery document answers 200.
 */

const PROJECT_ROOT = path.resolve(__dirname, "..");
const PROGRAM = path.join(__dirname, "oidc-test-provider.ts");
const DISCOVERY_PATH = "/.well-known/openid-configuration";
const READY_TIMEOUT_MS = 20_000;

export interface TestUser {
  login: string;
  password: string;
  name: string;
  email: string;
  groups: string[];
}

/**
 * The provider's accounts; their passwords are fixed, a wrong one is refused. `fullPath` is an
 * operator whose groups claim comes in Keycloak's "full group path" form ("/operators").
 */
export const TEST_USERS: { operator: TestUser; visitor: TestUser; fullPath: TestUser } = {
  operator: {
    login: "alice",
    password: "alice-password",
    name: "Alice Operator",
    email: "alice@example.test",
    groups: ["operators"],
  },
  visitor: {
    login: "bob",
    password: "bob-password",
    name: "Bob Visitor",
    email: "bob@example.test",
    groups: ["visitors"],
  },
  fullPath: {
    login: "carol",
    password: "carol-password",
    name: "Carol Operator",
    email: "carol@example.test",
    groups: ["/operators"],
  },
};

export interface OidcProviderOptions {
  /** Where the client may be sent back with a code. */
  redirectUris: string[];
  /** Where its logout may send the browser back; default `/signed-out` on each redirect URI's origin. */
  postLogoutRedirectUris?: string[];
  /** A fixed port; default a free one (another one is tried if it is taken before the provider binds). */
  port?: number;
  /** Where its output goes; default `oidc-provider.log` in a temp dir removed by stop(). */
  logFile?: string;
  readyTimeoutMs?: number;
}

/** Thrown (with one line) when the provider cannot be started. */
export class OidcProviderUnavailableError extends Error {
  override name = "OidcProviderUnavailableError";
}

/** One provider child process; restart() keeps its port, keys and client. */
export class OidcProviderProcess extends RestartableChild {
  readonly client = { id: "dashboard-e2e", secret: randomBytes(24).toString("hex") };
  readonly users = TEST_USERS;
  /** The private signing key (a JWK Set), made once so every restart signs with the same key. */
  private readonly jwks = JSON.stringify({ keys: [signingKey()] });

  private constructor(
    readonly port: number,
    readonly logFile: string,
    /** A temp dir of ours holding the log, removed by stop(); null when the caller chose the log file. */
    private readonly tempDir: string | null,
    private readonly opts: OidcProviderOptions,
  ) {
    super();
  }

  /** `http://127.0.0.1:<port>`, also the `iss` of its tokens. */
  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the provider and resolves once its discovery document answers 200. */
  static async start(opts: OidcProviderOptions): Promise<OidcProviderProcess> {
    const tempDir = opts.logFile === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), "oidc-provider-test-")) : null;
    const logFile = opts.logFile ?? path.join(tempDir as string, "oidc-provider.log");
    const startOn = async (port: number) => {
      const provider = new OidcProviderProcess(port, logFile, tempDir, opts);
      const failure = await provider.launch(Date.now() + provider.readyTimeoutMs);
      if (failure !== null) throw new OidcProviderUnavailableError(`${provider.describe()} ${failure}`);
      return provider;
    };
    try {
      if (opts.port !== undefined) return await startOn(opts.port);
      return await startOnFreePort(
        startOn,
        (error) => error instanceof OidcProviderUnavailableError && isBindFailure(error.message),
      );
    } catch (error) {
      if (tempDir !== null) fs.rmSync(tempDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Starts it again on the same port with the same keys and client (killing it first if it runs). */
  async restart(): Promise<void> {
    await this.relaunchOnSamePort(
      (deadline) => this.launch(deadline),
      this.readyTimeoutMs,
      (failure) => new OidcProviderUnavailableError(`${this.describe()} cannot restart: ${failure}`),
    );
  }

  /** SIGTERM, SIGKILL after 5 s; resolves once it is gone (and our temp dir is removed). */
  async stop(): Promise<void> {
    await this.stopCurrent();
    if (this.tempDir !== null) fs.rmSync(this.tempDir, { recursive: true, force: true });
  }

  /**
   * Changes an account at run time, as an administrator would at a real provider: its groups, or
   * disabled (sign-in and refresh refused). A restart forgets the changes.
   */
  async changeAccount(login: string, change: { groups?: string[]; disabled?: boolean }): Promise<void> {
    const res = await fetch(`${this.issuer}/test-admin/accounts/${encodeURIComponent(login)}`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.client.secret}`, "content-type": "application/json" },
      body: JSON.stringify(change),
    });
    if (!res.ok) throw new Error(`changeAccount(${login}): HTTP ${res.status} ${await res.text()}`);
  }

  /** How many logouts (end_session) the provider has completed since it started. */
  async completedLogouts(): Promise<number> {
    const res = await fetch(`${this.issuer}/test-admin/stats`, {
      headers: { authorization: `Bearer ${this.client.secret}` },
    });
    return ((await res.json()) as { completedLogouts: number }).completedLogouts;
  }

  private postLogoutRedirectUris(): string[] {
    return this.opts.postLogoutRedirectUris ?? this.opts.redirectUris.map((uri) => new URL("/signed-out", uri).href);
  }

  private get readyTimeoutMs(): number {
    return this.opts.readyTimeoutMs ?? READY_TIMEOUT_MS;
  }

  private describe(): string {
    return `The OIDC test provider (port ${this.port}; log ${this.logFile})`;
  }

  /** Spawns the provider; null once discovery answers 200, otherwise why not in one line. */
  private launch(deadline: number): Promise<string | null> {
    return this.spawnUntilReady({
      logFile: this.logFile,
      // `node --import tsx`, not the `tsx` command: that one runs the program in a second process
      // of its own, which a SIGKILL to the first one would leave running (and holding the port).
      spawn: (out) =>
        spawn(process.execPath, ["--import", "tsx", PROGRAM], {
          cwd: PROJECT_ROOT,
          env: {
            ...process.env,
            NODE_ENV: "test",
            OIDC_PORT: String(this.port),
            OIDC_ISSUER: this.issuer,
            OIDC_CLIENT_ID: this.client.id,
            OIDC_CLIENT_SECRET: this.client.secret,
            OIDC_REDIRECT_URIS: this.opts.redirectUris.join(","),
            OIDC_POST_LOGOUT_REDIRECT_URIS: this.postLogoutRedirectUris().join(","),
            OIDC_JWKS: this.jwks,
          },
          stdio: ["ignore", out, out],
        }),
      ready: () => answersDiscovery(this.issuer),
      readiness: DISCOVERY_PATH,
      failureLine: (log) => log.split("\n").find((l) => /address already in use|error/i.test(l)),
      deadline,
      pollMs: 100,
    });
  }
}

/** An RSA key for RS256, the ID token algorithm clients expect by default, as a private JWK. */
function signingKey(): object {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid: randomBytes(8).toString("hex"), alg: "RS256", use: "sig" };
}

/** Whether `<issuer>/.well-known/openid-configuration` answers 200 with this issuer. */
async function answersDiscovery(issuer: string): Promise<boolean> {
  try {
    const res = await fetch(`${issuer}${DISCOVERY_PATH}`, { signal: AbortSignal.timeout(1_000) });
    const body = (await res.json()) as { issuer?: unknown };
    return res.ok && body.issuer === issuer;
  } catch {
    return false;
  }
}

/** An OIDC provider for one test file, on a free loopback port; call stop() when done. */
export function startOidcProvider(opts: OidcProviderOptions): Promise<OidcProviderProcess> {
  return OidcProviderProcess.start(opts);
}

/** On a page showing the provider's login form: signs in as `user` ("Sign in" submits the form). */
export async function signInAtProvider(page: Page, user: TestUser): Promise<void> {
  await page.locator('input[name="login"]').fill(user.login);
  await page.locator('input[name="password"]').fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}
