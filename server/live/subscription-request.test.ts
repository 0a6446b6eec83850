import { describe, expect, it } from "vitest";
import { subscriptionCall } from "./subscription-request";

const get = (path: string, headers: Record<string, string> = {}) =>
  new Request(`http://127.0.0.1:3000${path}`, { headers });

describe("subscription request", () => {
  it("reads the path and the input as tRPC does, the last event id merged in", () => {
    const input = encodeURIComponent(JSON.stringify({ limit: 5 }));
    expect(subscriptionCall(get(`/api/trpc/sessions.onActive?input=${input}`), "/api/trpc")).toEqual({
      path: "sessions.onActive",
      input: { limit: 5 },
    });
    expect(
      subscriptionCall(get(`/api/trpc/sessions.onActive?input=${input}`, { "last-event-id": "ab.3" }), "/api/trpc"),
    ).toEqual({ path: "sessions.onActive", input: { limit: 5, lastEventId: "ab.3" } });
    expect(subscriptionCall(get("/api/trpc/sessions.onActive?lastEventId=ab.4"), "/api/trpc")).toEqual({
      path: "sessions.onActive",
      input: { lastEventId: "ab.4" },
    });
  });

  it("leaves everything else to tRPC: a POST, a batch, input that is not JSON, a path it cannot decode", () => {
    const post = new Request("http://127.0.0.1:3000/api/trpc/sessions.onActive", { method: "POST" });
    for (const req of [
      post,
      get("/api/trpc/sessions.onActive,market.onCandles?batch=1"),
      get("/api/trpc/sessions.onActive?input=%7Bnot-json"),
      get("/api/trpc/sessions.%E0%A4%A.onActive"),
      get("/api/health"),
    ])
      expect(subscriptionCall(req, "/api/trpc")).toBeNull();
  });
});
