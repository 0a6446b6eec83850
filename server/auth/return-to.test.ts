import { describe, expect, it } from "vitest";
import { safeReturnTo } from "./return-to";

describe("safeReturnTo", () => {
  it.each([
    ["/", "/"],
    ["/?symbol=ETH-USD", "/?symbol=ETH-USD"],
    ["/not-allowed", "/not-allowed"],
  ])("keeps the same-origin path %s", (raw, expected) => {
    expect(safeReturnTo(raw)).toBe(expected);
  });

  it.each([
    null,
    "",
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "/%0d%0aSet-Cookie:x",
    "/\t/evil.example",
    "evil.example",
    "/api/auth/signin?returnTo=https://evil.example",
  ])("sends %j to / instead of anywhere else", (raw) => {
    expect(safeReturnTo(raw)).toBe(raw === "/%0d%0aSet-Cookie:x" ? "/%0d%0aSet-Cookie:x" : "/");
  });
});
