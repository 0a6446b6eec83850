import pino from "pino";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createQuestdbService } from "@/server/compose";
import { parseEnv } from "@/server/env";
import { createMetrics } from "@/server/observability/metrics";
import { FakePgPool } from "@/server/questdb/testing/fake-pg-pool";
import { createCaller } from "@/server/root";
import { createContextInner } from "@/server/trpc";

/** The bounds on live work as a client meets them: through the router, with tRPC's error. */

function service(env: Record<string, string> = {}) {
  const fake = new FakePgPool();
  const questdb = createQuestdbService(parseEnv({ QUESTDB_RETRY_DELAYS_MS: "", ...env }), {
    log: pino({ level: "silent" }),
    metrics: createMetrics(new Registry()),
    createPool: fake.factory,
    dataDir: null,
  });
  return { questdb, fake };
}

describe("live streams per client", () => {
  it("100 subscriptions from one client address: the 9th on are TOO_MANY_REQUESTS naming the limit; loops stay bounded", async () => {
    const { questdb } = service();
    const controllers: AbortController[] = [];
    const outcomes: string[] = [];
    for (let limit = 1; limit <= 100; limit++) {
      const controller = new AbortController();
      const caller = createCaller(createContextInner({ questdb, clientAddress: "203.0.113.7" }), {
        signal: controller.signal,
      });
      try {
        await caller.sessions.onActive({ limit });
        controllers.push(controller);
        outcomes.push("ok");
      } catch (error) {
        outcomes.push(`${(error as { code?: string }).code}: ${(error as Error).message}`);
      }
    }
    expect(outcomes.slice(0, 8)).toEqual(Array(8).fill("ok"));
    expect(new Set(outcomes.slice(8))).toEqual(
      new Set([
        "TOO_MANY_REQUESTS: Too many live streams: this client address already has 8 open " +
          "(LIVE_MAX_STREAMS_PER_CLIENT=8); close a tab or wait for one to end",
      ]),
    );
    // Another address still streams.
    const other = createCaller(createContextInner({ questdb, clientAddress: "203.0.113.8" }));
    await expect(other.sessions.onActive({ limit: 1 })).resolves.toBeDefined();
    for (const controller of controllers) controller.abort();
    await questdb.close();
  });

  it("a signed-in session is counted on its own as well as its address", async () => {
    const { questdb } = service({ LIVE_MAX_STREAMS_PER_CLIENT: "2" });
    const viewer = {
      kind: "operator" as const,
      user: { sub: "alice", name: "Alice", email: null, groups: [] },
      expiresAt: Date.now() + 60_000,
    };
    const from = (clientAddress: string) => createCaller(createContextInner({ questdb, viewer, clientAddress }));
    await from("198.51.100.1").sessions.onActive({ limit: 1 });
    await from("198.51.100.2").sessions.onActive({ limit: 2 });
    await expect(from("198.51.100.3").sessions.onActive({ limit: 3 })).rejects.toThrow(/this session already has 2/);
    await questdb.close();
  });
});
