import { describe, expect, it } from "vitest";
import { InvalidEnvError, parseEnv } from "./env";

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
      PORT: 3000,
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
