import { z } from "zod";
import { redactSecrets } from "./lib/redact";
import { weakSecretReason } from "./lib/weak-secret";

/**
 * The one zod-validated configuration. Every default here is the one the README's
 * "Configuration" table documents; nothing else in the app hard-codes these numbers.
 */

const DEFAULTS = {
  QUESTDB_URL: "postgresql://admin:quest@127.0.0.1:8812/qdb",
  QUESTDB_HTTP_URL: "http://127.0.0.1:9000",
  QUESTDB_RETRY_DELAYS_MS: "100,500,1000",
  QUESTDB_BREAKER_THRESHOLD: "5",
  QUESTDB_BREAKER_RECOVERY_MS: "30000",
  QUESTDB_QUERY_TIMEOUT_MS: "2000",
  QUESTDB_DEADLINE_MS: "3000",
  QUESTDB_HEALTH_INTERVAL_MS: "2000",
  QUESTDB_POOL_MAX: "10",
  QUESTDB_STALE_AFTER_MS: "250",
  QUESTDB_SOFT_DEADLINE_MS: "1000",
  QUESTDB_CACHE_MAX_MB: "64",
  RATE_LIMIT_PER_MINUTE: "1200",
  DASHBOARD_DATA_DIR: ".data",
  REDIS_URL: "",
  LIVE_INTERVAL_MS: "1000",
  // Live work (README "Pushed, not polled"): change detection's cadence and the bounds on streams and topics.
  LIVE_CHECK_INTERVAL_MS: "100",
  LIVE_MIN_INTERVAL_MS: "100",
  LIVE_MAX_STREAMS_PER_CLIENT: "8",
  LIVE_MAX_TOPICS: "200",
  PORT: "3000",
  // Who the client is and which address it opened (README "Sign-in").
  TRUST_PROXY_HOPS: "0",
  PUBLIC_URL: "",
  // Access control (README "Sign-in"). AUTH_MODE has no default: production start-up refuses
  // until an operator chooses (requireAuthModeChosen).
  AUTH_MODE: "",
  OIDC_ISSUER: "",
  OIDC_CLIENT_ID: "",
  OIDC_CLIENT_SECRET: "",
  OIDC_ALLOWED_GROUPS: "",
  AUTH_SECRET: "",
  AUTH_SECRET_PREVIOUS: "",
  METRICS_TOKEN: "",
  // How often a session's account and groups are asked of the provider again (README "Sign-in").
  AUTH_RECHECK_MINUTES: "5",
} as const;

/** Values never printed, not even in the one line that rejects them. */
const SECRET_NAMES: ReadonlySet<string> = new Set([
  "OIDC_CLIENT_SECRET",
  "AUTH_SECRET",
  "AUTH_SECRET_PREVIOUS",
  "METRICS_TOKEN",
]);

/** The shortest AUTH_SECRET accepted: the session cookie's key is derived from it. */
export const AUTH_SECRET_MIN_LENGTH = 32;
/** The shortest METRICS_TOKEN accepted: it is compared on every scrape, and a short one is guessed. */
export const METRICS_TOKEN_MIN_LENGTH = 24;
/** OIDC_ALLOWED_GROUPS that admits every account of the provider, chosen on purpose. */
export const EVERY_ACCOUNT = "*";

type EnvName = keyof typeof DEFAULTS;

const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `an integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `an integer from ${min} to ${max}`).max(max, `an integer from ${min} to ${max}`));

/** A URL with one of `protocols` and a host name. */
const urlLike = (protocols: readonly string[], example: string) =>
  z
    .string()
    .trim()
    .refine((value) => {
      try {
        const url = new URL(value);
        return protocols.includes(url.protocol) && url.hostname !== "";
      } catch {
        return false;
      }
    }, example);

const postgresUrl = urlLike(["postgresql:", "postgres:"], "a URL like postgresql://user:password@host:8812/qdb");
const httpUrl = urlLike(["http:", "https:"], "a URL like http://host:9000");
/** Unset (empty) means no fleet. */
const redisUrl = z.union([z.literal(""), urlLike(["redis:", "rediss:"], "a URL like redis://host:6379 (or unset)")]);

const retryDelays = z
  .string()
  .trim()
  .regex(/^\d+(\s*,\s*\d+)*$/, "a comma-separated list of non-negative integers (milliseconds), e.g. 100,500,1000")
  .transform((value) => value.split(",").map((part) => Number(part.trim())))
  .pipe(z.array(z.number().int().min(0).max(60_000, "delays of at most 60000 ms")).max(10, "at most 10 delays"));

/** Whether a URL names this machine (plain http is allowed to it: nothing crosses a network). */
export function isLoopbackUrl(url: URL): boolean {
  return ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}

/** https, or http to this machine only (a local test provider): tokens never cross a network in clear. */
const issuerUrl = httpUrl.refine((value) => {
  if (!URL.canParse(value)) return true; // httpUrl has said what is wrong
  const url = new URL(value);
  return url.protocol === "https:" || isLoopbackUrl(url);
}, "an https URL (http only for a provider on 127.0.0.1 or localhost)");

const authMode = z.enum(["", "oidc", "none"], {
  error:
    "oidc (sign-in through your OpenID provider) or none (no sign-in: anyone who reaches the port sees everything)",
});
const groupList = z
  .string()
  .transform((value) =>
    value
      .split(",")
      .map((group) => group.trim())
      .filter((group) => group !== ""),
  )
  .refine(
    (groups) => !groups.includes(EVERY_ACCOUNT) || groups.length === 1,
    `comma-separated group names, or ${EVERY_ACCOUNT} alone to admit every account of the provider`,
  );

/** The address operators open: scheme and host (and port), nothing after them; unset (empty) is any host. */
const publicUrl = z
  .string()
  .trim()
  .refine((value) => {
    if (value === "") return true;
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    const originOnly = url.pathname === "/" && !url.search && !url.hash && !url.username && !url.password;
    return ["http:", "https:"].includes(url.protocol) && url.hostname !== "" && originOnly;
  }, "unset, or the address operators open, scheme and host only, e.g. https://dashboard.example.com")
  .transform((value) => (value === "" ? "" : new URL(value).origin));

const metricsToken = z
  .string()
  .trim()
  .refine(
    (value) => value === "" || value.length >= METRICS_TOKEN_MIN_LENGTH,
    `unset, or a random token of at least ${METRICS_TOKEN_MIN_LENGTH} characters (e.g. openssl rand -hex 24)`,
  );

/** Minutes, fractions allowed (a test re-checks every few seconds): from 0.05 (3 s) to a day. */
const recheckMinutes = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/, "a number of minutes from 0.05 to 1440 (fractions allowed, e.g. 0.5)")
  .transform(Number)
  .pipe(
    z
      .number()
      .min(0.05, "a number of minutes from 0.05 to 1440 (fractions allowed, e.g. 0.5)")
      .max(1440, "a number of minutes from 0.05 to 1440 (fractions allowed, e.g. 0.5)"),
  );

const fields = z.object({
  QUESTDB_URL: postgresUrl,
  QUESTDB_HTTP_URL: httpUrl,
  QUESTDB_RETRY_DELAYS_MS: retryDelays,
  QUESTDB_BREAKER_THRESHOLD: integer(1, 1000),
  QUESTDB_BREAKER_RECOVERY_MS: integer(1, 3_600_000),
  QUESTDB_QUERY_TIMEOUT_MS: integer(1, 600_000),
  QUESTDB_DEADLINE_MS: integer(1, 600_000),
  QUESTDB_HEALTH_INTERVAL_MS: integer(10, 3_600_000),
  QUESTDB_POOL_MAX: integer(1, 1000),
  QUESTDB_STALE_AFTER_MS: integer(0, 600_000),
  QUESTDB_SOFT_DEADLINE_MS: integer(1, 600_000),
  QUESTDB_CACHE_MAX_MB: integer(1, 65_536),
  RATE_LIMIT_PER_MINUTE: integer(0, 100_000_000),
  DASHBOARD_DATA_DIR: z.string().trim().min(1, "a directory path"),
  REDIS_URL: redisUrl,
  LIVE_INTERVAL_MS: integer(50, 3_600_000),
  LIVE_CHECK_INTERVAL_MS: integer(10, 60_000),
  LIVE_MIN_INTERVAL_MS: integer(0, 60_000),
  LIVE_MAX_STREAMS_PER_CLIENT: integer(1, 1_000_000),
  LIVE_MAX_TOPICS: integer(1, 100_000),
  PORT: integer(1, 65_535),
  TRUST_PROXY_HOPS: integer(0, 10),
  PUBLIC_URL: publicUrl,
  AUTH_MODE: authMode,
  OIDC_ISSUER: z.union([z.literal(""), issuerUrl]),
  OIDC_CLIENT_ID: z.string().trim(),
  OIDC_CLIENT_SECRET: z.string(),
  OIDC_ALLOWED_GROUPS: groupList,
  AUTH_SECRET: z.string(),
  AUTH_SECRET_PREVIOUS: z.string(),
  METRICS_TOKEN: metricsToken,
  AUTH_RECHECK_MINUTES: recheckMinutes,
});

/** What AUTH_MODE=oidc needs besides itself; each missing one is named in the rejecting line. */
const RANDOM_KEY = `a random key of at least ${AUTH_SECRET_MIN_LENGTH} characters (e.g. openssl rand -base64 48)`;
const OIDC_REQUIRED = {
  OIDC_ISSUER: "the issuer URL of your OpenID provider, e.g. https://sso.example.com/realms/ops",
  OIDC_CLIENT_ID: "the client id registered at the provider",
  OIDC_CLIENT_SECRET: "the client secret registered at the provider",
  OIDC_ALLOWED_GROUPS:
    `the comma-separated groups allowed in (e.g. trading-ops,sre), or ${EVERY_ACCOUNT} ` +
    "to admit every account of the provider on purpose",
  AUTH_SECRET: RANDOM_KEY,
} as const;

type Fields = z.output<typeof fields>;
type Issue = { path: [keyof Fields]; message: string };

/** What is wrong with a session key (AUTH_SECRET or AUTH_SECRET_PREVIOUS), or null. */
function sessionKeyProblem(secret: string): string | null {
  if (secret.length < AUTH_SECRET_MIN_LENGTH) return RANDOM_KEY;
  const weak = weakSecretReason(secret);
  return weak ? `${RANDOM_KEY}; this one is easy to guess: ${weak}` : null;
}

/** What AUTH_MODE=oidc asks of the other settings, in the order the lines are read. */
function oidcIssues(value: Fields): Issue[] {
  const issues: Issue[] = [];
  for (const [name, what] of Object.entries(OIDC_REQUIRED) as Array<[keyof typeof OIDC_REQUIRED, string]>) {
    const field = value[name];
    if (field.length === 0) issues.push({ path: [name], message: `${what} (required when AUTH_MODE=oidc)` });
  }
  const current = value.AUTH_SECRET && sessionKeyProblem(value.AUTH_SECRET);
  if (current) issues.push({ path: ["AUTH_SECRET"], message: `${current} (required when AUTH_MODE=oidc)` });
  const previous = value.AUTH_SECRET_PREVIOUS && sessionKeyProblem(value.AUTH_SECRET_PREVIOUS);
  if (previous) issues.push({ path: ["AUTH_SECRET_PREVIOUS"], message: `unset, or ${previous}` });
  return issues;
}

const schema = fields
  .superRefine((value, ctx) => {
    if (value.AUTH_MODE !== "oidc") return;
    for (const issue of oidcIssues(value)) ctx.addIssue({ code: "custom", ...issue });
  })
  .transform(({ AUTH_MODE, ...rest }) => ({ ...rest, AUTH_MODE: AUTH_MODE === "" ? undefined : AUTH_MODE }));

export type Env = z.output<typeof schema>;

export class InvalidEnvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidEnvError";
  }
}

/** Shows a value in an error line without leaking a password inside a URL or a secret's value. */
function showValue(name: string, value: string): string {
  if (SECRET_NAMES.has(name)) return value === "" ? '""' : `<hidden, ${value.length} characters>`;
  return JSON.stringify(redactSecrets(value));
}

/**
 * Parses the environment. Empty strings count as unset, so `FOO= npm start` gives the default.
 * Throws InvalidEnvError with one line naming the variable, its value and what is allowed.
 */
export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const raw: Record<string, string> = {};
  for (const name of Object.keys(DEFAULTS) as EnvName[]) {
    const value = source[name];
    raw[name] =
      value === undefined || value.trim() === "" ? DEFAULTS[name] : SECRET_NAMES.has(name) ? value : value.trim();
  }
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = issue.path[0] as EnvName;
  throw new InvalidEnvError(
    `Invalid environment variable ${name}=${showValue(name, raw[name]!)}: expected ${issue.message}`,
  );
}

/**
 * Production start-up (`npm start`, `next start`) needs an explicit choice: an unset AUTH_MODE
 * would otherwise mean a dashboard open to anyone who reaches its port, by accident.
 */
export function requireAuthModeChosen(env: Env): Env {
  if (env.AUTH_MODE === undefined) {
    throw new InvalidEnvError(
      "AUTH_MODE is not set: choose AUTH_MODE=oidc (operators sign in through your OpenID provider) " +
        "or AUTH_MODE=none (no sign-in: anyone who reaches the port sees everything)",
    );
  }
  return env;
}

/**
 * Runs `read` (which parses the environment); a bad value prints its one line and exits 1, as
 * both the app's start-up and `npm start`'s check before `next start` must.
 */
export function exitOnInvalidEnv<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof InvalidEnvError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

let cached: Env | undefined;

/** The app's configuration, parsed once; a bad value stops start-up with one clear line. */
export function env(): Env {
  cached ??= parseEnv();
  return cached;
}
