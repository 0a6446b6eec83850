import { describe, expect, it } from "vitest";
import { isPublicHost, publicOrigin, wrongHostAnswer } from "./public-origin";

const PUBLIC = { PUBLIC_URL: "https://dashboard.example.com" };
const ANY = { PUBLIC_URL: "" };
const h = (init: Record<string, string>) => new Headers(init);

describe("publicOrigin", () => {
  it("PUBLIC_URL set: that address and its scheme, whatever Host and X-Forwarded-Proto say", () => {
    expect(publicOrigin(h({ host: "evil.example", "x-forwarded-proto": "http" }), PUBLIC)).toEqual({
      origin: "https://dashboard.example.com",
      https: true,
    });
  });

  it("PUBLIC_URL unset: Host and X-Forwarded-Proto, else the request's URL", () => {
    expect(publicOrigin(h({ host: "127.0.0.1:3000" }), ANY, "http://localhost:3000/x")).toEqual({
      origin: "http://127.0.0.1:3000",
      https: false,
    });
    expect(publicOrigin(h({ host: "d.example", "x-forwarded-proto": "https, http" }), ANY).origin).toBe(
      "https://d.example",
    );
  });
});

describe("isPublicHost", () => {
  it.each([
    ["dashboard.example.com", true],
    ["DASHBOARD.example.com:443", true],
    ["dashboard.example.com:8443", false],
    ["evil.example", false],
    ["127.0.0.1:3000", false],
    ["evil.example@dashboard.example.com", false],
    ["dashboard.example.com/x", false],
    ["", false],
  ])("PUBLIC_URL=https://dashboard.example.com, Host %j: %s", (host, expected) => {
    expect(isPublicHost(h(host ? { host } : {}), PUBLIC)).toBe(expected);
  });

  it("any host while PUBLIC_URL is unset", () => {
    expect(isPublicHost(h({ host: "evil.example" }), ANY)).toBe(true);
  });

  it("the refusal is a 421 naming the address this server answers for", async () => {
    const res = wrongHostAnswer(PUBLIC);
    expect(res.status).toBe(421);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(((await res.json()) as { error: string }).error).toContain("https://dashboard.example.com");
  });
});
