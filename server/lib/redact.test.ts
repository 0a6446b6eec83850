import { describe, expect, it } from "vitest";
import { redactSecrets } from "./redact";

describe("redactSecrets", () => {
  it("hides the password of any URL, whatever its scheme, and keeps the rest", () => {
    expect(redactSecrets("postgresql://admin:s3cret@127.0.0.1:8812/qdb")).toBe(
      "postgresql://admin:***@127.0.0.1:8812/qdb",
    );
    expect(redactSecrets("could not reach postgres://u:p%40ss@h:1/db, nor redis://:tok3n@r:6379")).toBe(
      "could not reach postgres://u:***@h:1/db, nor redis://:***@r:6379",
    );
    // Not a valid URL (no host), still hidden: start-up errors show such values.
    expect(redactSecrets("postgresql://admin:s3cret@:8812/qdb")).toBe("postgresql://admin:***@:8812/qdb");
  });

  it("hides each given secret wherever it stands, but not secrets too short to be told from ordinary text", () => {
    expect(redactSecrets("password authentication failed: s3cret-pa55", ["s3cret-pa55"])).toBe(
      "password authentication failed: ***",
    );
    expect(redactSecrets("a is not b", ["a"])).toBe("a is not b");
  });
});
