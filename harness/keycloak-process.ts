import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Page } from "@playwright/test";
import { findBinary, findOnPath } from "./binaries";
import { killWithThisProcess } from "./child-cleanup";
import { RestartableChild, isBindFailure } from "./restartable-child";
import { findFreePort, mavenRepoLocal } from "./questdb-process";
import { startOnFreePort } from "./start-on-free-port";

/**
 * A real Keycloak for the sign-in tests, so the README's Keycloak recipe is checked against the
 * provider operators actually run, not only against our own test provider. The distribution is the
 * Maven artifact org.keycloak:keycloak-quarkus-dist (fetched once into the Maven cache, unpacked and
 * built once beside it); each start runs `start-dev` on a free loopback port with its own H2
 * database in a temp dir, importing a realm written here: realm `ops`, confidential clients with
 * PKCE S256 and a group membership mapper, groups `trading-ops` and `other`, users alice and bob.
 */

/** The one Keycloak version pin (issue 20 names 26.7). */
export const KEYCLOAK_VERSION = "26.7.3";
const ARTIFACT = `org.keycloak:keycloak-quarkus-dist:${KEYCLOAK_VERSION}:zip`;
const READY_TIMEOUT_MS = 120_000;
/** Longest a preparation step (download, unpack, build) may take. */
const STEP_TIMEOUT_MS = 300_000;
/** Keycloak 26 runs on Java 21 or later. */
const MIN_JAVA = 21;
const JVM_DIR = "/usr/lib/jvm";
/** Set before Quarkus starts, as bin/kc.sh does (a JDK 21+ may create the common pool early otherwise). */
const FORK_JOIN_FACTORY = "io.quarkus.bootstrap.forkjoin.QuarkusForkJoinWorkerThreadFactory";

export interface KeycloakUser {
  username: string;
  password: string;
  email: string;
  firstName: string;
  lastName: string;
  group: string;
}

/** The realm's accounts: alice is in the group the dashboard admits, bob is not. */
export const KEYCLOAK_USERS: { alice: KeycloakUser; bob: KeycloakUser } = {
  alice: {
    username: "alice",
    password: "alice-password",
    email: "alice@example.test",
    firstName: "Alice",
    lastName: "Operator",
    group: "trading-ops",
  },
  bob: {
    username: "bob",
    password: "bob-password",
    email: "bob@example.test",
    firstName: "Bob",
    lastName: "Other",
    group: "other",
  },
};

/** One dashboard registered in the realm. */
export interface KeycloakClientSpec {
  clientId: string;
  /** The app's address: its callback and /signed-out are registered under it. */
  appUrl: string;
  /** The group mapper's "Full group path": `/trading-ops` instead of `trading-ops` in the claim. */
  fullGroupPath: boolean;
}

export interface KeycloakOptions {
  clients: KeycloakClientSpec[];
  /** Where Keycloak's output goes; default `keycloak.log` in the temp dir removed by stop(). */
  logFile?: string;
  readyTimeoutMs?: number;
}

/** Thrown (with one line) when Keycloak cannot be obtained or started. */
export class KeycloakUnavailableError extends Error {
  override name = "KeycloakUnavailableError";
}

/** One Keycloak child process (the JVM itself, no shell wrapper, so stopping it stops the whole tree). */
export class KeycloakProcess extends RestartableChild {
  readonly users = KEYCLOAK_USERS;
  /** Each client's secret, by client id. */
  readonly secrets: Record<string, string>;
  /** From spawn to the realm's discovery document answering, in ms. */
  startMs = 0;
  /** The master realm's administrator, for changes at run time (setGroupMembership). */
  private readonly admin = { username: "admin", password: randomBytes(18).toString("hex") };

  private constructor(
    readonly port: number,
    readonly logFile: string,
    /** Holds the realm file, the H2 database and the transaction log; removed by stop(). */
    private readonly tempDir: string,
    private readonly home: string,
    private readonly java: string,
    clients: KeycloakClientSpec[],
  ) {
    super();
    this.secrets = Object.fromEntries(clients.map((c) => [c.clientId, randomBytes(24).toString("hex")]));
    const importDir = path.join(tempDir, "import");
    fs.mkdirSync(importDir, { recursive: true });
    fs.writeFileSync(path.join(importDir, "ops-realm.json"), JSON.stringify(opsRealm(clients, this.secrets)));
  }

  /** `http://127.0.0.1:<port>/realms/ops`, exactly as the discovery document names it (no trailing slash). */
  get issuer(): string {
    return `http://127.0.0.1:${this.port}/realms/ops`;
  }

  /** Prepares the distribution if needed, starts Keycloak and resolves once the realm's discovery answers. */
  static async start(opts: KeycloakOptions): Promise<KeycloakProcess> {
    const { java, home } = await prepareKeycloak();
    const startOn = async (port: number) => {
      const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "keycloak-test-"));
      const logFile = opts.logFile ?? path.join(tempDir, "keycloak.log");
      const keycloak = new KeycloakProcess(port, logFile, tempDir, home, java, opts.clients);
      const started = Date.now();
      const failure = await keycloak.launch(started + (opts.readyTimeoutMs ?? READY_TIMEOUT_MS));
      if (failure !== null) {
        fs.rmSync(tempDir, { recursive: true, force: true });
        throw new KeycloakUnavailableError(`Keycloak (port ${port}; log ${logFile}) ${failure}`);
      }
      keycloak.startMs = Date.now() - started;
      return keycloak;
    };
    return startOnFreePort(startOn, (e) => e instanceof KeycloakUnavailableError && isBindFailure(e.message));
  }

  /** Adds a user to a group or removes them, as an administrator would in the admin console. */
  async setGroupMembership(username: string, group: string, member: boolean): Promise<void> {
    const api = `http://127.0.0.1:${this.port}/admin/realms/ops`;
    const headers = { authorization: `Bearer ${await this.adminToken()}` };
    const call = async (method: string, url: string): Promise<unknown> => {
      const res = await fetch(url, { method, headers });
      if (!res.ok) throw new Error(`Keycloak admin ${method} ${url}: HTTP ${res.status} ${await res.text()}`);
      return res.status === 204 ? null : res.json();
    };
    const users = (await call("GET", `${api}/users?exact=true&username=${encodeURIComponent(username)}`)) as {
      id: string;
    }[];
    const groups = (await call("GET", `${api}/groups?exact=true&search=${encodeURIComponent(group)}`)) as {
      id: string;
      name: string;
    }[];
    const groupId = groups.find((g) => g.name === group)?.id;
    if (!users[0] || !groupId) throw new Error(`Keycloak: no user ${username} or no group ${group} in realm ops`);
    await call(member ? "PUT" : "DELETE", `${api}/users/${users[0].id}/groups/${groupId}`);
  }

  /** An access token of the master realm's administrator (the admin-cli client takes a password). */
  private async adminToken(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.port}/realms/master/protocol/openid-connect/token`, {
      method: "POST",
      body: new URLSearchParams({ grant_type: "password", client_id: "admin-cli", ...this.admin }),
    });
    if (!res.ok) throw new Error(`Keycloak admin token: HTTP ${res.status} ${await res.text()}`);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  /** SIGTERM, SIGKILL after 10 s; resolves once the JVM is gone and the temp dir removed. */
  async stop(): Promise<void> {
    await this.stopCurrent(10_000);
    fs.rmSync(this.tempDir, { recursive: true, force: true });
  }

  /** Spawns the JVM; null once the realm's discovery document answers, otherwise why not in one line. */
  private launch(deadline: number): Promise<string | null> {
    const args = [
      ...keycloakJvmArgs(this.home),
      // `--import-realm` alone reads the shared distribution's data/import; this points it at ours.
      `-Dkeycloak.migration.dir=${path.join(this.tempDir, "import")}`,
      // The transaction log would otherwise go into the shared distribution's data/.
      `-Dquarkus.transaction-manager.object-store.directory=${path.join(this.tempDir, "transaction-logs")}`,
      "-cp",
      path.join(this.home, "lib", "quarkus-run.jar"),
      "io.quarkus.bootstrap.runner.QuarkusEntryPoint",
      ...startDevArgs(this.port),
      "--import-realm",
      `--db-url=jdbc:h2:file:${path.join(this.tempDir, "h2", "keycloakdb")};NON_KEYWORDS=VALUE`,
    ];
    return this.spawnUntilReady({
      logFile: this.logFile,
      spawn: (out) =>
        spawn(this.java, args, {
          cwd: this.tempDir,
          env: {
            ...process.env,
            KC_BOOTSTRAP_ADMIN_USERNAME: this.admin.username,
            KC_BOOTSTRAP_ADMIN_PASSWORD: this.admin.password,
          },
          stdio: ["ignore", out, out],
        }),
      ready: () => answersDiscovery(this.issuer),
      readiness: "/realms/ops/.well-known/openid-configuration",
      failureLine: (log) => log.split("\n").find((l) => /address already in use|ERROR/i.test(l)),
      deadline,
      pollMs: 200,
    });
  }
}

/** Starts a Keycloak for one test file; call stop() when done. */
export function startKeycloak(opts: KeycloakOptions): Promise<KeycloakProcess> {
  return KeycloakProcess.start(opts);
}

/** On a page showing Keycloak's login form: signs in as `user`. */
export async function signInAtKeycloak(page: Page, user: KeycloakUser): Promise<void> {
  await page.locator("#username").fill(user.username);
  await page.locator("#password").fill(user.password);
  await page.locator("#kc-login").click();
}

/** The realm file `--import-realm` reads: what an administrator would click together for the README's recipe. */
export function opsRealm(clients: KeycloakClientSpec[], secrets: Record<string, string>): object {
  const users = Object.values(KEYCLOAK_USERS).map((u) => ({
    username: u.username,
    email: u.email,
    emailVerified: true,
    firstName: u.firstName,
    lastName: u.lastName,
    enabled: true,
    credentials: [{ type: "password", value: u.password, temporary: false }],
    groups: [`/${u.group}`],
  }));
  return {
    realm: "ops",
    enabled: true,
    groups: [{ name: "trading-ops" }, { name: "other" }],
    users,
    clients: clients.map((c) => ({
      clientId: c.clientId,
      enabled: true,
      protocol: "openid-connect",
      publicClient: false,
      secret: secrets[c.clientId],
      standardFlowEnabled: true,
      directAccessGrantsEnabled: false,
      redirectUris: [`${c.appUrl}/api/auth/callback`],
      attributes: {
        "pkce.code.challenge.method": "S256",
        "post.logout.redirect.uris": `${c.appUrl}/signed-out`,
      },
      protocolMappers: [groupMembershipMapper(c.fullGroupPath)],
    })),
  };
}

/** Keycloak's "Group Membership" mapper putting `groups` in the ID token, access token and userinfo. */
function groupMembershipMapper(fullPath: boolean): object {
  return {
    name: "groups",
    protocol: "openid-connect",
    protocolMapper: "oidc-group-membership-mapper",
    config: {
      "claim.name": "groups",
      "full.path": String(fullPath),
      "id.token.claim": "true",
      "access.token.claim": "true",
      "userinfo.token.claim": "true",
    },
  };
}

/** What bin/kc.sh passes the JVM, minus its shell; C1 only and the serial GC start it faster on 2 cores. */
function keycloakJvmArgs(home: string): string[] {
  return [
    "-XX:TieredStopAtLevel=1",
    "-XX:+UseSerialGC",
    "-Xms64m",
    "-Xmx512m",
    "-XX:+ExitOnOutOfMemoryError",
    "-Dfile.encoding=UTF-8",
    "-Duser.language=en",
    "-Duser.country=US",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--add-opens=java.base/java.security=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    `-Djava.util.concurrent.ForkJoinPool.common.threadFactory=${FORK_JOIN_FACTORY}`,
    `-Dkc.home.dir=${home}`,
    `-Djboss.server.config.dir=${path.join(home, "conf")}`,
    "-Djava.util.logging.manager=org.jboss.logmanager.LogManager",
    "-Dpicocli.disable.closures=true",
  ];
}

/** The same build options at preparation and at every start, so a start never rebuilds the shared distribution. */
function startDevArgs(port: number): string[] {
  return [
    "start-dev",
    "--http-host=127.0.0.1",
    `--http-port=${port}`,
    "--health-enabled=false",
    "--metrics-enabled=false",
  ];
}

/**
 * Everything a start needs, done once per machine: a Java 21+ found, the zip fetched, unpacked and
 * built. CI runs it ahead of the tests (.ci/run), so the first test does not pay for it.
 */
export async function prepareKeycloak(): Promise<{ java: string; home: string }> {
  const java = findKeycloakJava();
  return { java, home: await ensureKeycloakHome(java) };
}

/** Java 21+ to run Keycloak: $KEYCLOAK_JAVA_HOME, else the newest JDK ≥ 21 in $JAVA_HOME or /usr/lib/jvm. */
export function findKeycloakJava(): string {
  const configured = process.env.KEYCLOAK_JAVA_HOME?.trim();
  const homes = configured
    ? [configured]
    : [
        process.env.JAVA_HOME?.trim(),
        ...(fs.existsSync(JVM_DIR) ? fs.readdirSync(JVM_DIR).map((d) => path.join(JVM_DIR, d)) : []),
      ];
  const found = homes
    .filter((home): home is string => Boolean(home))
    .map((home) => ({ java: path.join(home, "bin", "java"), major: javaMajor(home) }))
    .filter((c) => c.major >= MIN_JAVA && fs.existsSync(c.java))
    .sort((a, b) => b.major - a.major)[0];
  if (found) return found.java;
  const where = configured ? `KEYCLOAK_JAVA_HOME=${configured}` : `JAVA_HOME or ${JVM_DIR}`;
  throw new KeycloakUnavailableError(
    `Cannot run Keycloak ${KEYCLOAK_VERSION}: it needs Java ${MIN_JAVA}+, and no such JDK is in ${where} ` +
      "(install one, e.g. temurin-25-jdk, or set KEYCLOAK_JAVA_HOME).",
  );
}

/** The major version a JDK's `release` file names (JAVA_VERSION="25.0.1"); 0 when unreadable. */
function javaMajor(home: string): number {
  try {
    const match = /^JAVA_VERSION="(\d+)/m.exec(fs.readFileSync(path.join(home, "release"), "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Where the zip lives (or will live) in the local Maven repository. */
export function keycloakZipPath(): string {
  const dir = path.join(mavenRepoLocal(), "org", "keycloak", "keycloak-quarkus-dist", KEYCLOAK_VERSION);
  return path.join(dir, `keycloak-quarkus-dist-${KEYCLOAK_VERSION}.zip`);
}

/**
 * The unpacked, built distribution beside the zip in the Maven cache (never in git). Unpacked and
 * built in a temp sibling, then renamed into place: two test runs preparing at once never see half of one.
 */
export async function ensureKeycloakHome(java: string): Promise<string> {
  const zip = await ensureKeycloakZip();
  const home = path.join(path.dirname(zip), `keycloak-${KEYCLOAK_VERSION}`);
  // Written last, after the build: a directory without it is from an interrupted or foreign preparation.
  const marker = path.join(home, ".built-for-start-dev");
  if (fs.existsSync(marker)) return home;
  const staging = fs.mkdtempSync(`${home}.staging-`);
  try {
    // The JDK's own `jar` unpacks a zip: no `unzip` needed on the machine (a bare JRE has none).
    const jar = path.join(path.dirname(java), "jar");
    if (fs.existsSync(jar)) await run(jar, ["xf", zip], staging, "unpack");
    else await run(findOnPath("unzip") ?? "unzip", ["-q", zip], staging, "unpack");
    const unpacked = path.join(staging, `keycloak-${KEYCLOAK_VERSION}`);
    await buildForStartDev(java, unpacked);
    fs.writeFileSync(path.join(unpacked, ".built-for-start-dev"), "built by harness/keycloak-process.ts\n");
    if (fs.existsSync(home) && !fs.existsSync(marker)) fs.rmSync(home, { recursive: true, force: true });
    try {
      fs.renameSync(unpacked, home);
    } catch (error) {
      // Another run prepared it first: theirs is as good as ours.
      if (!fs.existsSync(marker)) throw error;
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return home;
}

/** start-dev on a fresh distribution builds it for these options and exits 10 ("rerun me"), serving nothing. */
async function buildForStartDev(java: string, home: string): Promise<void> {
  const args = [
    ...keycloakJvmArgs(home),
    "-cp",
    path.join(home, "lib", "quarkus-run.jar"),
    "io.quarkus.bootstrap.runner.QuarkusEntryPoint",
    ...startDevArgs(await findFreePort()),
  ];
  await run(java, args, home, "build", [10]);
}

/** The zip from the Maven cache, fetched with `mvn dependency:get` when it is not there yet. */
async function ensureKeycloakZip(): Promise<string> {
  const zip = keycloakZipPath();
  if (fs.existsSync(zip)) return zip;
  const mvn = findBinary({
    command: "mvn",
    purpose: `Cannot download Keycloak ${KEYCLOAK_VERSION}`,
    installHint: "install Maven",
    unavailable: KeycloakUnavailableError,
  });
  const args = ["-q", "-B", "dependency:get", `-Dartifact=${ARTIFACT}`, "-Dtransitive=false"];
  if (process.env.MAVEN_REPO_LOCAL?.trim()) args.push(`-Dmaven.repo.local=${mavenRepoLocal()}`);
  await run(mvn, args, process.cwd(), "download");
  if (!fs.existsSync(zip)) throw new KeycloakUnavailableError(`mvn fetched ${ARTIFACT} but ${zip} is not there.`);
  return zip;
}

/**
 * Runs a preparation step (killed with this process, and after STEP_TIMEOUT_MS); throws one line
 * (its first ERROR line or last line) unless it exits with one of `okCodes`.
 */
function run(command: string, args: string[], cwd: string, what: string, okCodes = [0]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    killWithThisProcess(child);
    const timer = setTimeout(() => child.kill("SIGKILL"), STEP_TIMEOUT_MS);
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", (error) => reject(new KeycloakUnavailableError(`Keycloak ${what}: ${error.message}`)));
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code !== null && okCodes.includes(code)) return resolve();
      const lines = output
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
      const line = lines.find((l) => l.includes("ERROR")) ?? lines.at(-1) ?? `exit code ${String(code)}`;
      reject(new KeycloakUnavailableError(`Keycloak ${KEYCLOAK_VERSION} ${what} failed: ${line.slice(0, 300)}`));
    });
  });
}

/** Whether the realm's discovery document answers 200 naming this issuer. */
async function answersDiscovery(issuer: string): Promise<boolean> {
  try {
    const res = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(1_000) });
    const body = (await res.json()) as { issuer?: unknown };
    return res.ok && body.issuer === issuer;
  } catch {
    return false;
  }
}
