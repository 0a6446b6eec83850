import { describe, expect, it } from "vitest";
import { returnToUrl, safeReturnTo } from "./return-to";

/** Every way the review found (and a few more) to make a path normalise into "//host". */
const DOT_SEGMENT_ESCAPES = [
  "/.//evil.example",
  "/..//evil.example",
  "/%2e//evil.example",
  "/%2E%2E//evil.example",
  "/x/..//evil.example",
  "/x/../..//evil.example/phish",
  "/./%2e//evil.example",
  "/.//evil.example/phish?x=1",
];

describe("safeReturnTo", () => {
  it.each([
    ["/", "/"],
    ["/?symbol=ETH-USD", "/?symbol=ETH-USD"],
    ["/not-allowed", "/not-allowed"],
    ["/x/../?symbol=SOL-USD", "/?symbol=SOL-USD"],
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
    "/\t/evil.example",
    "evil.example",
    "/api/auth/signin?returnTo=https://evil.example",
    ...DOT_SEGMENT_ESCAPES,
  ])("sends %j to / instead of anywhere else", (raw) => {
    expect(safeReturnTo(raw)).toBe("/");
  });

  it("keeps an encoded line break encoded (it never reaches a header as one)", () => {
    expect(safeReturnTo("/%0d%0aSet-Cookie:x")).toBe("/%0d%0aSet-Cookie:x");
  });
});

describe("returnToUrl", () => {
  const origin = "https://dashboard.example.com";
  it.each(DOT_SEGMENT_ESCAPES)("the browser is sent to this site for %j", (raw) => {
    expect(returnToUrl(raw, origin).origin).toBe(origin);
    expect(returnToUrl(raw, origin).href).toBe(`${origin}/`);
  });

  it("a path on this site is kept", () => {
    expect(returnToUrl("/?symbol=ETH-USD&interval=5m", origin).href).toBe(`${origin}/?symbol=ETH-USD&interval=5m`);
  });
});
