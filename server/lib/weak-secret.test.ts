import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { weakSecretReason } from "./weak-secret";

describe("weakSecretReason", () => {
  it.each([
    ["a".repeat(32), "it is one character repeated"],
    ["abc123".repeat(6), "it is a short pattern repeated"],
    ["aaaabbbbccccddddaaaabbbbccccdddX", "it repeats too few different characters"],
    ["CorrectHorseBatteryStaple-secret", "it is made of common words"],
    ["questdb-dashboard-production-key", "it is made of common words"],
  ])("%j: %s", (secret, reason) => {
    expect(weakSecretReason(secret)).toBe(reason);
  });

  it("what openssl rand gives always passes (1,000 of each form)", () => {
    for (let i = 0; i < 1000; i++) {
      expect(weakSecretReason(randomBytes(48).toString("base64"))).toBeNull();
      expect(weakSecretReason(randomBytes(16).toString("hex"))).toBeNull();
      expect(weakSecretReason(randomBytes(32).toString("base64url"))).toBeNull();
    }
  });
});
