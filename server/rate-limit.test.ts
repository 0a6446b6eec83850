import { describe, expect, it } from "vitest";
import { clientOf, createClientRateLimiter, proceduresIn } from "./rate-limit";

const request = (path: string, forwardedFor = "10.1.2.3") =>
  new Request(`http://localhost:3000/api/trpc/${path}`, { headers: { "x-forwarded-for": forwardedFor } });

describe("per-client rate limit", () => {
  it("counts each procedure of a batch, and answers 429 with Retry-After and a tRPC error naming the limit", async () => {
    const limiter = createClientRateLimiter(5);
    expect(await limiter.refuse(request("sessions.active,market.candles,health.status?batch=1"))).toBeNull();
    expect(await limiter.refuse(request("sessions.active,market.candles?batch=1"))).toBeNull();
    const refused = await limiter.refuse(request("sessions.active,market.candles?batch=1"));
    expect(refused?.status).toBe(429);
    expect(Number(refused?.headers.get("Retry-After"))).toBeGreaterThan(0);
    const body = (await refused!.json()) as Array<{ error: { message: string; data: { code: string; path: string } } }>;
    expect(body.map((b) => b.error.data.path)).toEqual(["sessions.active", "market.candles"]);
    expect(body[0]!.error.data.code).toBe("TOO_MANY_REQUESTS");
    expect(body[0]!.error.message).toMatch(
      /^Too many requests from this client: at most 5 calls a minute; try again in \d+ s$/,
    );
  });

  it("keeps clients apart, by the hop nearest the app", async () => {
    const limiter = createClientRateLimiter(1);
    expect(await limiter.refuse(request("sessions.active", "1.1.1.1, 10.0.0.1"))).toBeNull();
    expect(await limiter.refuse(request("sessions.active", "10.0.0.2"))).toBeNull();
    // A spoofed first entry does not make another client.
    expect((await limiter.refuse(request("sessions.active", "9.9.9.9, 10.0.0.1")))?.status).toBe(429);
    expect(clientOf(new Request("http://x/api/trpc/a"))).toBe("unknown");
  });

  it("is off at 0", async () => {
    const limiter = createClientRateLimiter(0);
    for (let i = 0; i < 100; i++) expect(await limiter.refuse(request("sessions.active"))).toBeNull();
  });

  it("reads the procedures of a path", () => {
    expect(proceduresIn(request("sessions.active,health.status?batch=1&input=%7B%7D"))).toEqual([
      "sessions.active",
      "health.status",
    ]);
    expect(proceduresIn(new Request("http://x/api/trpc"))).toEqual([]);
  });
});
