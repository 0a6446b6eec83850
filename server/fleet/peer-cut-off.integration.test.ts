import { rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { seedDemoData } from "@/demo/seed";
import { eventually } from "@/harness/eventually";
import { pgUrlFor, startTestQuestdb, type QuestdbProcess } from "@/harness/questdb-process";
import { startRedis, type RedisProcess } from "@/harness/redis-process";
import { startToxiproxy, type Proxy, type Toxiproxy } from "@/harness/toxiproxy";
import { createQuestdbService, type QuestdbService } from "@/server/compose";
import { parseEnv } from "@/server/env";
import { createMetrics } from "@/server/observability/metrics";
import { createCaller } from "@/server/root";
import { createContextInner } from "@/server/trpc";

/**
 * One instance cut off from QuestDB while another's link is healthy (issue 19, item 3), with real
 * parts: one QuestDB, one Redis, two services (as two app instances would be), each reaching
 * QuestDB through its own Toxiproxy link. A's link is cut; A's breaker opens and, with a short
 * recovery time, announces "open" again after every failed probe. B checks its own link each
 * time and keeps answering `ok` — what the benchmark's peerCutOffOkShare measures.
 */

const silent = pino({ level: "silent" });
let questdb: QuestdbProcess;
let redis: RedisProcess;
let toxiproxy: Toxiproxy;
const links: Proxy[] = [];
const services: QuestdbService[] = [];

/** An instance through its own link; every call asks QuestDB (no reuse), so a refusal to serve shows. */
function instance(link: Proxy, overrides: Record<string, string> = {}) {
  const service = createQuestdbService(
    parseEnv({
      QUESTDB_URL: pgUrlFor(link.listenPort),
      REDIS_URL: redis.url,
      QUESTDB_HEALTH_INTERVAL_MS: "500",
      ...overrides,
    }),
    { log: silent, metrics: createMetrics(new Registry()), dataDir: null, freshForMs: 0 },
  );
  services.push(service);
  return { service, api: createCaller(createContextInner({ questdb: service })) };
}

beforeAll(async () => {
  [questdb, redis, toxiproxy] = await Promise.all([startTestQuestdb(), startRedis(), startToxiproxy()]);
  await seedDemoData({ pgUrl: questdb.pgUrl, httpUrl: questdb.httpUrl });
  for (const name of ["link_a", "link_b"]) links.push(await toxiproxy.createProxy(name, `127.0.0.1:${questdb.pgPort}`));
}, 300_000);

afterEach(async () => {
  for (const link of links) await link.enable();
  await Promise.all(services.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  for (const link of links) await link.delete().catch(() => undefined);
  await Promise.all([toxiproxy?.stop(), redis?.stop(), questdb?.stop()]);
  if (questdb) rmSync(questdb.dataDir, { recursive: true, force: true });
});

describe("one instance cut off from QuestDB, another healthy", () => {
  it("the healthy instance keeps answering ok (≥ 95 % of its calls over 10 s) while the cut-off one fails fast", async () => {
    const [linkA, linkB] = links as [Proxy, Proxy];
    // A re-announces "open" every second (each failed half-open probe), as fast as it ever would.
    const a = instance(linkA, {
      QUESTDB_RETRY_DELAYS_MS: "10,10,10",
      QUESTDB_BREAKER_THRESHOLD: "2",
      QUESTDB_BREAKER_RECOVERY_MS: "1000",
    });
    const b = instance(linkB);
    await eventually(() => a.service.health().redis === "ok" && b.service.health().redis === "ok", {
      what: "both in the fleet",
      timeoutMs: 10_000,
    });
    // The seed's rows may take a moment to become visible.
    await eventually(async () => (await b.api.sessions.active({ limit: 5 })).status === "ok", { what: "B ok" });

    await linkA.disable();
    let stop = false;
    // A keeps being asked, so its breaker keeps probing and announcing.
    const drivingA = (async () => {
      while (!stop) {
        await a.api.sessions.active({ limit: 6 });
        await sleep(50);
      }
    })();
    await eventually(() => a.service.health().questdb.breaker === "open", { what: "A's breaker to open" });

    const statuses: string[] = [];
    const startedAt = Date.now();
    while (Date.now() - startedAt < 10_000) {
      statuses.push((await b.api.sessions.active({ limit: 5 })).status);
      await sleep(50);
    }
    stop = true;
    await drivingA;
    const okShare = statuses.filter((s) => s === "ok").length / statuses.length;
    console.info(`peer cut off: B answered ok ${statuses.filter((s) => s === "ok").length} of ${statuses.length}`);
    expect(a.service.health().questdb.breaker).not.toBe("closed");
    expect(okShare).toBeGreaterThanOrEqual(0.95);
  }, 60_000);
});
