import { spawn } from "node:child_process";
import path from "node:path";
import { findFreePort } from "../harness/questdb-process";
import { expect, metricsHeaders, test } from "./fixtures";

/**
 * Configuration errors stop the production server (`next start`) at start-up — without any request —
 * with a non-zero exit and one line naming the variable, its value and what is allowed. A missing
 * QuestDB is not a configuration error: the app starts and answers `error` until QuestDB appears.
 */

const ROOT = path.resolve(__dirname, "..");
const CONTRACT_VARIABLES = [
  "QUESTDB_URL",
  "QUESTDB_HTTP_URL",
  "QUESTDB_RETRY_DELAYS_MS",
  "QUESTDB_BREAKER_THRESHOLD",
  "QUESTDB_BREAKER_RECOVERY_MS",
  "QUESTDB_QUERY_TIMEOUT_MS",
  "QUESTDB_DEADLINE_MS",
  "QUESTDB_HEALTH_INTERVAL_MS",
  "QUESTDB_POOL_MAX",
  "PORT",
  "AUTH_MODE",
  "OIDC_ISSUER",
  "OIDC_CLIENT_ID",
  "OIDC_CLIENT_SECRET",
  "OIDC_ALLOWED_GROUPS",
  "AUTH_SECRET",
  "AUTH_SECRET_PREVIOUS",
  "METRICS_TOKEN",
  "TRUST_PROXY_HOPS",
  "PUBLIC_URL",
] as const;
type Variable = (typeof CONTRACT_VARIABLES)[number];

/** How long a server with a bad configuration may take to give up (it normally takes under a second). */
const EXIT_WITHIN_MS = 20_000;

interface StartResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  ms: number;
  /** Still running after EXIT_WITHIN_MS (then killed). */
  kept: boolean;
}

/** Runs `next start` with the environment and never sends it a request. */
async function nextStart(
  env: Record<string, string>,
  args: string[],
  opts: { npmStart?: boolean } = {},
): Promise<StartResult> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CONTRACT_VARIABLES) delete base[name];
  const started = Date.now();
  const [command, commandArgs] = opts.npmStart
    ? ["npm", ["run", "--silent", "start", ...(args.length ? ["--", ...args] : [])]]
    : [path.join(ROOT, "node_modules/.bin/next"), ["start", ...args]];
  const child = spawn(command, commandArgs, {
    cwd: ROOT,
    env: { ...base, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  let kept = false;
  const timer = setTimeout(() => {
    kept = true;
    child.kill("SIGKILL");
  }, EXIT_WITHIN_MS);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once("exit", (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
  );
  clearTimeout(timer);
  return { code, signal, output, ms: Date.now() - started, kept };
}

interface BadValue {
  name: Variable;
  value: string;
  /** What the line must say after "expected". */
  expected: RegExp;
  /** Text that must not appear anywhere in the output (a password). */
  secret?: string;
  /** How the value is shown in the line, when not as given (a redacted password). */
  shown?: string;
}

const BAD_VALUES: BadValue[] = [
  { name: "QUESTDB_URL", value: "not a url", expected: /a URL like postgresql:\/\// },
  { name: "QUESTDB_URL", value: "http://127.0.0.1:8812/qdb", expected: /a URL like postgresql:\/\// },
  {
    name: "QUESTDB_URL",
    value: "postgresql://admin:s3cret@:8812/qdb",
    expected: /a URL like postgresql:\/\//,
    secret: "s3cret",
    shown: "postgresql://admin:***@:8812/qdb",
  },
  { name: "QUESTDB_HTTP_URL", value: "localhost:9000", expected: /a URL like http:\/\/host:9000/ },
  { name: "QUESTDB_HTTP_URL", value: "ftp://127.0.0.1:9000", expected: /a URL like http:\/\/host:9000/ },
  { name: "QUESTDB_RETRY_DELAYS_MS", value: "-100", expected: /non-negative integers/ },
  { name: "QUESTDB_RETRY_DELAYS_MS", value: "100,abc,1000", expected: /non-negative integers/ },
  { name: "QUESTDB_RETRY_DELAYS_MS", value: "100,,500", expected: /non-negative integers/ },
  { name: "QUESTDB_RETRY_DELAYS_MS", value: "100,500,70000", expected: /at most 60000 ms/ },
  { name: "QUESTDB_BREAKER_THRESHOLD", value: "0", expected: /an integer from 1 to 1000/ },
  { name: "QUESTDB_BREAKER_THRESHOLD", value: "-3", expected: /an integer from 1 to 1000/ },
  { name: "QUESTDB_BREAKER_THRESHOLD", value: "2.5", expected: /an integer from 1 to 1000/ },
  { name: "QUESTDB_BREAKER_RECOVERY_MS", value: "-1", expected: /an integer from 1 to 3600000/ },
  { name: "QUESTDB_BREAKER_RECOVERY_MS", value: "soon", expected: /an integer from 1 to 3600000/ },
  { name: "QUESTDB_QUERY_TIMEOUT_MS", value: "0", expected: /an integer from 1 to 600000/ },
  { name: "QUESTDB_QUERY_TIMEOUT_MS", value: "1e3", expected: /an integer from 1 to 600000/ },
  { name: "QUESTDB_DEADLINE_MS", value: "-5", expected: /an integer from 1 to 600000/ },
  { name: "QUESTDB_DEADLINE_MS", value: "Infinity", expected: /an integer from 1 to 600000/ },
  { name: "QUESTDB_HEALTH_INTERVAL_MS", value: "5", expected: /an integer from 10 to 3600000/ },
  { name: "QUESTDB_HEALTH_INTERVAL_MS", value: "-500", expected: /an integer from 10 to 3600000/ },
  { name: "QUESTDB_POOL_MAX", value: "0", expected: /an integer from 1 to 1000/ },
  { name: "QUESTDB_POOL_MAX", value: "ten", expected: /an integer from 1 to 1000/ },
  { name: "QUESTDB_POOL_MAX", value: "1001", expected: /an integer from 1 to 1000/ },
  { name: "TRUST_PROXY_HOPS", value: "-1", expected: /an integer from 0 to 10/ },
  { name: "TRUST_PROXY_HOPS", value: "all", expected: /an integer from 0 to 10/ },
  { name: "PUBLIC_URL", value: "dashboard.example.com", expected: /scheme and host only/ },
  { name: "PUBLIC_URL", value: "https://dashboard.example.com/app", expected: /scheme and host only/ },
];

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

test.describe("a bad configuration stops `next start` at start-up with one line naming the variable", () => {
  for (const bad of BAD_VALUES) {
    test(`${bad.name}=${JSON.stringify(bad.value)}`, async () => {
      const port = await findFreePort();
      // Everything else valid; QuestDB is not needed (nothing may be asked of it).
      const result = await nextStart(
        { QUESTDB_URL: `postgresql://admin:quest@127.0.0.1:${await findFreePort()}/qdb`, [bad.name]: bad.value },
        ["-p", String(port)],
      );
      const report = `exit ${String(result.code)} / ${String(result.signal)} after ${result.ms} ms:\n${result.output}`;
      expect(result.kept, `the server must exit by itself, without a request: ${report}`).toBe(false);
      expect(result.code, report).not.toBe(0);
      expect(result.code, report).not.toBeNull();

      const lines = result.output.split("\n").filter((line) => line.includes("Invalid environment variable"));
      expect(lines, report).toHaveLength(1);
      const shown = JSON.stringify(bad.shown ?? bad.value);
      expect(lines[0], report).toMatch(
        new RegExp(`^Invalid environment variable ${bad.name}=${escape(shown)}: expected .+`),
      );
      expect(lines[0], report).toMatch(bad.expected);
      expect(result.output, "no stack trace").not.toMatch(/^\s+at /m);
      if (bad.secret) expect(result.output, "the password never appears").not.toContain(bad.secret);
    });
  }

  // PORT is read by `next start` itself before the app's own check runs.
  test(`PORT="abc" (read by next start itself)`, async () => {
    const result = await nextStart({ PORT: "abc" }, []);
    const report = `exit ${String(result.code)} after ${result.ms} ms:\n${result.output}`;
    expect(result.kept, report).toBe(false);
    expect(result.code, report).not.toBe(0);
    const lines = result.output.split("\n").filter((line) => line.trim() !== "");
    expect(lines, report).toHaveLength(1);
    expect(lines[0], report).toMatch(/PORT/);
    expect(lines[0], report).toMatch(/'abc' is not a non-negative number/);
  });

  for (const value of ["70000", "0"]) {
    // `next start` alone reads PORT before the app's check (PORT=0 means "any port", 70000 exits 0);
    // `npm start` checks the configuration first.
    test(`PORT=${JSON.stringify(value)} stops \`npm start\` with one line naming PORT`, async () => {
      const result = await nextStart({ PORT: value }, [], { npmStart: true });
      const report = `exit ${String(result.code)} after ${result.ms} ms, kept running: ${result.kept}:\n${result.output}`;
      expect(result.kept, report).toBe(false);
      expect(result.code, report).not.toBe(0);
      const lines = result.output.split("\n").filter((line) => line.trim() !== "");
      expect(lines, report).toEqual([expect.stringMatching(/^Invalid environment variable PORT="/)]);
    });
  }
});

test.describe("production never starts open by accident", () => {
  const QUESTDB_URL = "postgresql://admin:quest@127.0.0.1:1/qdb";
  for (const npmStart of [true, false]) {
    test(`AUTH_MODE unset stops \`${npmStart ? "npm start" : "next start"}\` with one line`, async () => {
      const port = await findFreePort();
      const result = await nextStart({ QUESTDB_URL }, npmStart ? [] : ["-p", String(port)], { npmStart });
      const report = `exit ${String(result.code)} after ${result.ms} ms, kept running: ${result.kept}:\n${result.output}`;
      expect(result.kept, report).toBe(false);
      expect(result.code, report).not.toBe(0);
      const lines = result.output.split("\n").filter((line) => line.includes("AUTH_MODE"));
      expect(lines, report).toEqual([
        expect.stringMatching(/^AUTH_MODE is not set: choose AUTH_MODE=oidc .+ or AUTH_MODE=none .+$/),
      ]);
      expect(result.output, "no stack trace").not.toMatch(/^\s+at /m);
    });
  }

  test("AUTH_MODE=oidc with a short AUTH_SECRET: one line naming it, the secret never printed", async () => {
    const env = {
      QUESTDB_URL,
      AUTH_MODE: "oidc",
      OIDC_ISSUER: "https://sso.example.com/realms/ops",
      OIDC_CLIENT_ID: "dashboard",
      OIDC_CLIENT_SECRET: "client-secret-never-printed",
      OIDC_ALLOWED_GROUPS: "trading-ops",
      AUTH_SECRET: "short-secret-never-printed",
    };
    const result = await nextStart(env, [], { npmStart: true });
    const report = `exit ${String(result.code)}:\n${result.output}`;
    expect(result.code, report).not.toBe(0);
    const lines = result.output.split("\n").filter((line) => line.trim() !== "");
    expect(lines, report).toEqual([
      expect.stringMatching(
        /^Invalid environment variable AUTH_SECRET=<hidden, 26 characters>: expected a random key of at least 32 characters/,
      ),
    ]);
    expect(result.output).not.toContain("never-printed");
  });
});

test.describe("sign-in settings that would let too many in stop `npm start` with one line", () => {
  const OIDC = {
    QUESTDB_URL: "postgresql://admin:quest@127.0.0.1:1/qdb",
    AUTH_MODE: "oidc",
    OIDC_ISSUER: "https://sso.example.com/realms/ops",
    OIDC_CLIENT_ID: "dashboard",
    OIDC_CLIENT_SECRET: "client-secret-never-printed",
    OIDC_ALLOWED_GROUPS: "trading-ops",
    AUTH_SECRET: "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b",
  };
  const cases: Array<{ title: string; env: Record<string, string>; line: RegExp; neverPrinted?: string }> = [
    {
      title: "AUTH_MODE=oidc without OIDC_ALLOWED_GROUPS (every account of the provider would be let in)",
      env: { ...OIDC, OIDC_ALLOWED_GROUPS: "" },
      line: /^Invalid environment variable OIDC_ALLOWED_GROUPS="": expected .*groups allowed in .*, or \* to admit every account/,
    },
    {
      title: "AUTH_SECRET of one character repeated",
      env: { ...OIDC, AUTH_SECRET: "a".repeat(40) },
      line: /^Invalid environment variable AUTH_SECRET=<hidden, 40 characters>: expected a random key .*one character repeated/,
      neverPrinted: "a".repeat(40),
    },
    {
      title: "AUTH_SECRET of a short pattern repeated",
      env: { ...OIDC, AUTH_SECRET: "Xy7!".repeat(10) },
      line: /^Invalid environment variable AUTH_SECRET=<hidden, 40 characters>: expected a random key .*a short pattern repeated/,
      neverPrinted: "Xy7!Xy7!",
    },
    {
      title: "AUTH_SECRET of dictionary words",
      env: { ...OIDC, AUTH_SECRET: "supersecretpasswordchangemeplease" },
      line: /^Invalid environment variable AUTH_SECRET=<hidden, 33 characters>: expected a random key .*made of common words/,
      neverPrinted: "supersecret",
    },
    {
      title: "AUTH_SECRET_PREVIOUS of one character repeated",
      env: { ...OIDC, AUTH_SECRET_PREVIOUS: "b".repeat(48) },
      line: /^Invalid environment variable AUTH_SECRET_PREVIOUS=<hidden, 48 characters>: expected unset, or a random key/,
      neverPrinted: "b".repeat(48),
    },
    {
      title: "METRICS_TOKEN shorter than 24 characters",
      env: { QUESTDB_URL: OIDC.QUESTDB_URL, AUTH_MODE: "none", METRICS_TOKEN: "tok-never-printed" },
      line: /^Invalid environment variable METRICS_TOKEN=<hidden, 17 characters>: expected unset, or a random token of at least 24 characters/,
      neverPrinted: "tok-never-printed",
    },
  ];
  for (const bad of cases) {
    test(bad.title, async () => {
      const result = await nextStart(bad.env, [], { npmStart: true });
      const report = `exit ${String(result.code)}, kept running: ${result.kept}:\n${result.output}`;
      expect(result.kept, report).toBe(false);
      expect(result.code, report).not.toBe(0);
      const lines = result.output.split("\n").filter((line) => line.trim() !== "");
      expect(lines, report).toEqual([expect.stringMatching(bad.line)]);
      expect(result.output).not.toContain("never-printed");
      if (bad.neverPrinted) expect(result.output).not.toContain(bad.neverPrinted);
    });
  }
});

test.describe("QuestDB missing at start is not a configuration error", () => {
  test.use({ questdbDown: true });

  test("the app starts, /api/health is 200, procedures answer `error` naming the cause, then `ok` once QuestDB appears", async ({
    request,
    stack,
  }) => {
    const url = stack.app.url;
    const trpc = async (path: string, input?: unknown) => {
      const res = await request.get(
        `${url}/api/trpc/${path}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`,
        {
          timeout: 10_000,
        },
      );
      return {
        status: res.status(),
        body: (await res.json()) as { result?: { data: Record<string, unknown> }; error?: { message: string } },
      };
    };

    const health = await request.get(`${url}/api/health`);
    expect(health.status()).toBe(200);
    await expect
      .poll(
        async () =>
          (await (await request.get(`${url}/api/health`)).json()) as {
            status: string;
            questdb: { lastError: string | null };
          },
      )
      .toMatchObject({ status: "degraded", questdb: { lastError: expect.stringMatching(/connection refused/) } });
    expect((await request.get(`${url}/api/metrics`, { headers: metricsHeaders(stack) })).status()).toBe(200);

    // Several polls while QuestDB is missing: each an `error` answer (nothing cached), HTTP 200.
    for (let i = 0; i < 3; i++) {
      const sessions = await trpc("sessions.active", { limit: 10 + i });
      expect(sessions.status).toBe(200);
      expect(sessions.body.result?.data).toMatchObject({
        status: "error",
        data: null,
        reason: "database_unavailable",
        message: expect.stringMatching(/^Failed to get active sessions: .+/),
      });
      const candles = await trpc("market.candles", { symbol: "ETH-USD", interval: "5m" });
      expect(candles.status).toBe(200);
      expect(candles.body.result?.data).toMatchObject({
        status: "error",
        data: null,
        reason: "database_unavailable",
        message: expect.stringMatching(/^Failed to get 5m candles for ETH-USD: .+/),
      });
      const healthStatus = await trpc("health.status");
      expect(healthStatus.status).toBe(200);
      expect(healthStatus.body.result?.data).toMatchObject({ status: "degraded" });
    }
    // Bad input is still a 400, QuestDB or not.
    const bad = await trpc("sessions.active", { limit: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/^Invalid input: limit: /);

    await stack.questdb.start();
    await expect
      .poll(async () => (await trpc("sessions.active", { limit: 10 })).body.result?.data.status, { timeout: 20_000 })
      .toBe("ok");
    expect((await trpc("market.candles", { symbol: "ETH-USD", interval: "5m" })).body.result?.data.status).toBe("ok");
    await expect
      .poll(async () => ((await (await request.get(`${url}/api/health`)).json()) as { status: string }).status)
      .toBe("ok");
  });
});
