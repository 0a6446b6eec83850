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
      PORT: 3000,
      AUTH_MODE: undefined,
      OIDC_ISSUER: "",
      OIDC_CLIENT_ID: "",
      OIDC_CLIENT_SECRET: "",
      OIDC_ALLOWED_GROUPS: [],
      AUTH_SECRET: "",
      METRICS_TOKEN: "",
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
    ["OIDC_ISSUER", "not a url"],
    ["OIDC_ISSUER", "http://sso.example.com/realms/ops"],
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
    AUTH_SECRET: "s".repeat(40),
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

  it.each(["OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "AUTH_SECRET"])(
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
