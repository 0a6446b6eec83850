import { describe, expect, it } from "vitest";
import { InvalidEnvError, parseEnv, requireAuthModeChosen } from "./env";

describe("parseEnv", () => {
  it("gives the contract's defaults", () => {
    expect(parseEnv({})).toEqual({
      QUESTDB_URL: "postgresql://admin:quest@127.0.0.1:8812/qdb",
      QUESTDB_HTTP_URL: "http://127.0.0.1:9000",
      QUESTDB_RETRY_DELAYS_MS: [100, 500, 1000],
      QUESTDB_BREAKER_THRESHOLD: 5,
      QUESTDB_BREAKER_RECOVERY_MS: 30_000,
      QUESTDB_QUERY_TIMEOUT_MS: 2_000,
      QUESTDB_DEADLINE_MS: 3_000,
      QUESTDB_HEALTH_INTERVAL_MS: 2_000,
      QUESTDB_POOL_MAX: 10,
      QUESTDB_STALE_AFTER_MS: 250,
      QUESTDB_SOFT_DEADLINE_MS: 1_000,
      QUESTDB_CACHE_MAX_MB: 64,
      RATE_LIMIT_PER_MINUTE: 1_200,
      DASHBOARD_DATA_DIR: ".data",
      REDIS_URL: "",
      LIVE_INTERVAL_MS: 1000,
      LIVE_CHECK_INTERVAL_MS: 100,
      LIVE_MIN_INTERVAL_MS: 100,
      LIVE_MAX_STREAMS_PER_CLIENT: 8,
      LIVE_MAX_TOPICS: 200,
      PORT: 3000,
      TRUST_PROXY_HOPS: 0,
      PUBLIC_URL: "",
      AUTH_MODE: undefined,
      OIDC_ISSUER: "",
      OIDC_CLIENT_ID: "",
      OIDC_CLIENT_SECRET: "",
      OIDC_ALLOWED_GROUPS: [],
      AUTH_SECRET: "",
      AUTH_SECRET_PREVIOUS: "",
      METRICS_TOKEN: "",
      AUTH_RECHECK_MINUTES: 5,
    });
  });

  it("parses set values", () => {
    const env = parseEnv({ QUESTDB_RETRY_DELAYS_MS: "50, 60", QUESTDB_POOL_MAX: "3", PORT: "4000" });
    expect(env.QUESTDB_RETRY_DELAYS_MS).toEqual([50, 60]);
    expect(env.QUESTDB_POOL_MAX).toBe(3);
    expect(env.PORT).toBe(4000);
  });

  it.each([
    ["QUESTDB_RETRY_DELAYS_MS", "-100,500"],
    ["QUESTDB_RETRY_DELAYS_MS", "100,abc"],
    ["QUESTDB_BREAKER_THRESHOLD", "0"],
    ["QUESTDB_SOFT_DEADLINE_MS", "0"],
    ["QUESTDB_STALE_AFTER_MS", "-1"],
    ["QUESTDB_CACHE_MAX_MB", "0"],
    ["RATE_LIMIT_PER_MINUTE", "lots"],
    ["REDIS_URL", "http://127.0.0.1:6379"],
    ["QUESTDB_BREAKER_RECOVERY_MS", "-1"],
    ["QUESTDB_QUERY_TIMEOUT_MS", "1.5"],
    ["QUESTDB_DEADLINE_MS", "soon"],
    ["QUESTDB_HEALTH_INTERVAL_MS", "0"],
    ["QUESTDB_POOL_MAX", "0"],
    ["PORT", "70000"],
    ["QUESTDB_URL", "not a url"],
    ["QUESTDB_URL", "http://127.0.0.1:8812/qdb"],
    ["QUESTDB_HTTP_URL", "127.0.0.1:9000"],
    ["AUTH_MODE", "sso"],
    ["LIVE_INTERVAL_MS", "0"],
    ["LIVE_CHECK_INTERVAL_MS", "5"],
    ["LIVE_MIN_INTERVAL_MS", "-1"],
    ["LIVE_MAX_STREAMS_PER_CLIENT", "0"],
    ["LIVE_MAX_TOPICS", "many"],
    ["OIDC_ISSUER", "not a url"],
    ["OIDC_ISSUER", "http://sso.example.com/realms/ops"],
    ["TRUST_PROXY_HOPS", "-1"],
    ["TRUST_PROXY_HOPS", "all"],
    ["PUBLIC_URL", "dashboard.example.com"],
    ["PUBLIC_URL", "https://dashboard.example.com/app"],
    ["OIDC_ALLOWED_GROUPS", "sre,*"],
  ])("rejects %s=%s with one line naming the variable, the value and what is allowed", (name, value) => {
    let error: unknown;
    try {
      parseEnv({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidEnvError);
    const message = (error as Error).message;
    expect(message).not.toContain("\n");
    expect(message).toContain(`Invalid environment variable ${name}=`);
    expect(message).toContain(JSON.stringify(value));
    expect(message).toMatch(/expected .+/);
  });

  it("never prints the password of a bad QUESTDB_URL", () => {
    expect(() => parseEnv({ QUESTDB_URL: "mysql://admin:hunter22@db:8812/qdb" })).toThrow(/admin:\*\*\*@db/);
    try {
      parseEnv({ QUESTDB_URL: "mysql://admin:hunter22@db:8812/qdb" });
    } catch (e) {
      expect((e as Error).message).not.toContain("hunter22");
    }
  });
});

describe("access control settings", () => {
  const OIDC = {
    AUTH_MODE: "oidc",
    OIDC_ISSUER: "https://sso.example.com/realms/ops",
    OIDC_CLIENT_ID: "dashboard",
    OIDC_CLIENT_SECRET: "client-secret-value",
    OIDC_ALLOWED_GROUPS: "trading-ops",
    AUTH_SECRET: "Zx8kQ2vLp9Wm4Rt7Yb1Nc6Hd3Jf5Gs0Ae8Uq2Io4Pl7Mk9",
  };
  const rejection = (source: Record<string, string>) => {
    try {
      parseEnv(source);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidEnvError);
      return (error as Error).message;
    }
    throw new Error("accepted");
  };

  it("AUTH_MODE=oidc with everything it needs; groups split on commas", () => {
    const env = parseEnv({ ...OIDC, OIDC_ALLOWED_GROUPS: " operators, sre ,," });
    expect(env.AUTH_MODE).toBe("oidc");
    expect(env.OIDC_ALLOWED_GROUPS).toEqual(["operators", "sre"]);
    expect(parseEnv({ AUTH_MODE: "none" }).AUTH_MODE).toBe("none");
  });

  it.each(["OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_ALLOWED_GROUPS", "AUTH_SECRET"])(
    "AUTH_MODE=oidc without %s names it",
    (name) => {
      const message = rejection({ ...OIDC, [name]: "" });
      expect(message).toMatch(new RegExp(`^Invalid environment variable ${name}=.*required when AUTH_MODE=oidc`));
    },
  );

  it("a short AUTH_SECRET is refused without showing it; so is every secret's value", () => {
    const message = rejection({ ...OIDC, AUTH_SECRET: "tooshort-secret" });
    expect(message).toBe(
      "Invalid environment variable AUTH_SECRET=<hidden, 15 characters>: expected a random key of at least 32 characters (e.g. openssl rand -base64 48) (required when AUTH_MODE=oidc)",
    );
    expect(message).not.toContain("tooshort-secret");
  });

  it("OIDC_ALLOWED_GROUPS is a choice: the groups, or `*` alone to admit every account", () => {
    expect(rejection({ ...OIDC, OIDC_ALLOWED_GROUPS: "" })).toBe(
      'Invalid environment variable OIDC_ALLOWED_GROUPS="": expected the comma-separated groups allowed in ' +
        "(e.g. trading-ops,sre), or * to admit every account of the provider on purpose (required when AUTH_MODE=oidc)",
    );
    expect(parseEnv({ ...OIDC, OIDC_ALLOWED_GROUPS: " * " }).OIDC_ALLOWED_GROUPS).toEqual(["*"]);
    expect(rejection({ ...OIDC, OIDC_ALLOWED_GROUPS: "trading-ops, *" })).toMatch(/or \* alone/);
    expect(parseEnv({ AUTH_MODE: "none" }).OIDC_ALLOWED_GROUPS).toEqual([]);
  });

  it.each([
    ["a repeated character", "a".repeat(32), /one character repeated/],
    ["two characters", "ab".repeat(8) + "ba".repeat(8), /too few different characters/],
    ["a short repeated pattern", "k3Y!p9".repeat(6), /a short pattern repeated/],
    ["a word repeated", "password".repeat(4), /a short pattern repeated/],
    ["dictionary words", "supersecretpasswordchangemeplease", /made of common words/],
    ["words, separators and a year", "my-super-secret-dashboard-key-2024", /made of common words/],
  ])("a low-entropy AUTH_SECRET (%s) is refused without showing it", (_kind, secret, reason) => {
    const message = rejection({ ...OIDC, AUTH_SECRET: secret });
    expect(message).toMatch(
      new RegExp(
        `^Invalid environment variable AUTH_SECRET=<hidden, ${secret.length} characters>: expected a random key`,
      ),
    );
    expect(message).toMatch(reason);
    expect(message).not.toContain(secret);
  });

  it.each([
    ["openssl rand -base64 48", "4sFv0Xb9yq1Zl7T+2mQ8hJc3rKdW6nE5pA0uGiYoLxVzN1sB7eR2tC9wM4jH8kU3"],
    ["openssl rand -hex 16", "9f86d081884c7d659a2feaa0c55ad015"],
    ["openssl rand -hex 32", "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b"],
  ])("a random AUTH_SECRET (%s) is accepted", (_kind, secret) => {
    expect(parseEnv({ ...OIDC, AUTH_SECRET: secret }).AUTH_SECRET).toBe(secret);
  });

  it("AUTH_SECRET_PREVIOUS, when set, is held to the same rules and never shown", () => {
    const previous = "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b";
    expect(parseEnv({ ...OIDC, AUTH_SECRET_PREVIOUS: previous }).AUTH_SECRET_PREVIOUS).toBe(previous);
    const message = rejection({ ...OIDC, AUTH_SECRET_PREVIOUS: "b".repeat(40) });
    expect(message).toMatch(
      /^Invalid environment variable AUTH_SECRET_PREVIOUS=<hidden, 40 characters>: expected unset, or/,
    );
  });

  it("METRICS_TOKEN: unset, or at least 24 characters; never shown", () => {
    expect(parseEnv({ METRICS_TOKEN: "0123456789abcdef01234567" }).METRICS_TOKEN).toHaveLength(24);
    expect(rejection({ METRICS_TOKEN: "x" })).toBe(
      "Invalid environment variable METRICS_TOKEN=<hidden, 1 characters>: expected unset, or a random token of at " +
        "least 24 characters (e.g. openssl rand -hex 24)",
    );
    expect(rejection({ METRICS_TOKEN: "scrape-token-123" })).not.toContain("scrape-token-123");
  });

  it("TRUST_PROXY_HOPS and PUBLIC_URL", () => {
    expect(parseEnv({ TRUST_PROXY_HOPS: "2" }).TRUST_PROXY_HOPS).toBe(2);
    expect(parseEnv({ PUBLIC_URL: "https://Dashboard.example.com/" }).PUBLIC_URL).toBe("https://dashboard.example.com");
    expect(parseEnv({ PUBLIC_URL: "http://127.0.0.1:3000" }).PUBLIC_URL).toBe("http://127.0.0.1:3000");
    expect(rejection({ PUBLIC_URL: "https://dashboard.example.com/app" })).toMatch(/scheme and host only/);
  });

  it("AUTH_RECHECK_MINUTES: minutes, fractions allowed, from 0.05 to 1440", () => {
    expect(parseEnv({ AUTH_RECHECK_MINUTES: "0.05" }).AUTH_RECHECK_MINUTES).toBe(0.05);
    expect(parseEnv({ AUTH_RECHECK_MINUTES: "15" }).AUTH_RECHECK_MINUTES).toBe(15);
    for (const bad of ["0", "0.01", "-1", "1441", "five", "1e3"])
      expect(rejection({ AUTH_RECHECK_MINUTES: bad }), bad).toMatch(
        /^Invalid environment variable AUTH_RECHECK_MINUTES=.*: expected a number of minutes from 0.05 to 1440/,
      );
  });

  it("http issuers only on this machine", () => {
    expect(parseEnv({ ...OIDC, OIDC_ISSUER: "http://127.0.0.1:8080/realms/ops" }).OIDC_ISSUER).toBe(
      "http://127.0.0.1:8080/realms/ops",
    );
    expect(rejection({ ...OIDC, OIDC_ISSUER: "http://sso.example.com" })).toMatch(/an https URL/);
  });

  it("requireAuthModeChosen: one line when AUTH_MODE is unset, the env when it is chosen", () => {
    expect(() => requireAuthModeChosen(parseEnv({}))).toThrow(
      /^AUTH_MODE is not set: choose AUTH_MODE=oidc .* or AUTH_MODE=none .*$/,
    );
    expect(requireAuthModeChosen(parseEnv({ AUTH_MODE: "none" })).AUTH_MODE).toBe("none");
  });
});
