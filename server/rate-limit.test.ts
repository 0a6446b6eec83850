import { describe, expect, it } from "vitest";
import { SOCKET_ADDRESS_HEADER } from "./auth/client-address";
import { createClientRateLimiter, proceduresIn } from "./rate-limit";

const SOCKET = "127.0.0.1";
const request = (path: string, forwardedFor = "10.1.2.3", socket = SOCKET) =>
  new Request(`http://localhost:3000/api/trpc/${path}`, {
    headers: { "x-forwarded-for": forwardedFor, [SOCKET_ADDRESS_HEADER]: socket },
  });
const trpcLimiter = (perMinute: number, trustProxyHops = 0) =>
  createClientRateLimiter({ perMinute, trustProxyHops, answers: "trpc" });

describe("per-client rate limit", () => {
  it("counts each procedure of a batch, and answers 429 with Retry-After and a tRPC error naming the limit", async () => {
    const limiter = trpcLimiter(5);
    expect(await limiter.refuse(request("sessions.active,market.candles,health.status?batch=1"))).toBeNull();
    expect(await limiter.refuse(request("sessions.active,market.candles?batch=1"))).toBeNull();
    const refused = await limiter.refuse(request("sessions.active,market.candles?batch=1"));
    expect(refused?.status).toBe(429);
    expect(Number(refused?.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(refused?.headers.get("cache-control")).toBe("no-store");
    const body = (await refused!.json()) as Array<{ error: { message: string; data: { code: string; path: string } } }>;
    expect(body.map((b) => b.error.data.path)).toEqual(["sessions.active", "market.candles"]);
    expect(body[0]!.error.data.code).toBe("TOO_MANY_REQUESTS");
    expect(body[0]!.error.message).toMatch(
      /^Too many requests from this client: at most 5 calls a minute; try again in \d+ s$/,
    );
  });

  it("TRUST_PROXY_HOPS=0: the socket is the client, whatever X-Forwarded-For the client sends", async () => {
    const limiter = trpcLimiter(3);
    for (const forged of ["1.1.1.1", "2.2.2.2", "3.3.3.3"])
      expect(await limiter.refuse(request("sessions.active", forged))).toBeNull();
    expect((await limiter.refuse(request("sessions.active", "4.4.4.4")))?.status).toBe(429);
    // Another socket is another client.
    expect(await limiter.refuse(request("sessions.active", "4.4.4.4", "10.9.9.9"))).toBeNull();
  });

  it("TRUST_PROXY_HOPS=1: the hop the proxy appended; a spoofed first entry does not make another client", async () => {
    const limiter = trpcLimiter(1, 1);
    expect(await limiter.refuse(request("sessions.active", "1.1.1.1, 10.0.0.1"))).toBeNull();
    expect(await limiter.refuse(request("sessions.active", "10.0.0.2"))).toBeNull();
    expect((await limiter.refuse(request("sessions.active", "9.9.9.9, 10.0.0.1")))?.status).toBe(429);
  });

  it("is off at 0", async () => {
    const limiter = trpcLimiter(0);
    for (let i = 0; i < 100; i++) expect(await limiter.refuse(request("sessions.active"))).toBeNull();
  });

  it("a path with a broken % escape is a 400 naming the fault, after its point is spent; never a throw", async () => {
    const limiter = trpcLimiter(2);
    const bad = await limiter.refuse(request("sessions.active%zz"));
    expect(bad?.status).toBe(400);
    expect(bad?.headers.get("cache-control")).toBe("no-store");
    const body = (await bad!.json()) as { error: { message: string; data: { code: string } } };
    expect(body.error.data.code).toBe("BAD_REQUEST");
    expect(body.error.message).toMatch(/not valid URL encoding/);
    expect((await limiter.refuse(request("sessions.active%E0%A4%A")))?.status).toBe(400);
    expect((await limiter.refuse(request("sessions.active%zz")))?.status).toBe(429);
  });

  it("health and metrics: one point a request and a plain JSON refusal", async () => {
    const limiter = createClientRateLimiter({ perMinute: 1, trustProxyHops: 0, answers: "json" });
    const health = () => new Request("http://x/api/health", { headers: { [SOCKET_ADDRESS_HEADER]: SOCKET } });
    expect(await limiter.refuse(health())).toBeNull();
    const refused = await limiter.refuse(health());
    expect(refused?.status).toBe(429);
    expect(((await refused!.json()) as { error: string }).error).toMatch(/^Too many requests from this client/);
  });

  it("reads the procedures of a path", () => {
    expect(proceduresIn(request("sessions.active,health.status?batch=1&input=%7B%7D"))).toEqual([
      "sessions.active",
      "health.status",
    ]);
    expect(proceduresIn(new Request("http://x/api/trpc"))).toEqual([]);
    expect(proceduresIn(new Request("http://x/api/trpc/a%zz"))).toBeNull();
  });
});
