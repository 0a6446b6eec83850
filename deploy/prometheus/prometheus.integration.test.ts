import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSchema } from "@/demo/schema";
import { startApp, type AppProcess } from "@/harness/app-process";
import { eventually } from "@/harness/eventually";
import {
  runPromtool,
  startPrometheus,
  type PrometheusAlert,
  type PrometheusProcess,
} from "@/harness/prometheus-process";
import { findFreePort, startTestQuestdb, type QuestdbProcess } from "@/harness/questdb-process";

/**
 * The shipped rules against the real thing: a real Prometheus scrapes a real `next start` with the
 * bearer token read from a file, QuestDB is SIGKILLed, and the "QuestDB unreachable" alert must go
 * pending, then firing, then away once QuestDB is back. The rules are the shipped ones with every
 * `for:` cut to 5 s and Prometheus scraping and evaluating every second, so it takes a minute, not ten.
 * Every alert's state changes are logged with their times.
 *
 * The app is the production build in `.next` (built here once when missing); PROMETHEUS_TEST_APP_ROOT
 * names another directory that holds a build (a private copy, while the tree is being edited).
 */

const ROOT = path.resolve(__dirname, "..", "..");
const APP_ROOT = process.env.PROMETHEUS_TEST_APP_ROOT ? path.resolve(process.env.PROMETHEUS_TEST_APP_ROOT) : ROOT;
const TOKEN = "prometheus-integration-test-token-0123456789";
const ALERT = "QuestDBUnreachable";

let questdb: QuestdbProcess;
let app: AppProcess;
let prometheus: PrometheusProcess;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "prometheus-it-"));

/** The rules as shipped, every `for:` cut to 5 s. */
function testRules(): string {
  const rules = fs.readFileSync(path.join(__dirname, "rules.yml"), "utf8");
  const cut = rules.replace(/^(\s+for:) \d+m$/gm, "$1 5s");
  expect(cut).not.toMatch(/for: \d+m/);
  return cut;
}

function prometheusConfig(appUrl: string): string {
  return `global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
  - job_name: questdb-dashboard
    metrics_path: /api/metrics
    authorization:
      type: Bearer
      credentials_file: questdb-dashboard.token
    static_configs:
      - targets: ["${new URL(appUrl).host}"]
`;
}

function ensureBuild(): void {
  if (fs.existsSync(path.join(APP_ROOT, ".next", "BUILD_ID"))) return;
  execFileSync(path.join(APP_ROOT, "node_modules/.bin/next"), ["build"], {
    cwd: APP_ROOT,
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
  });
}

/** Watches /api/v1/alerts and keeps every change of an alert's state, with its time. */
function recordAlertStates(source: PrometheusProcess, since: () => number) {
  const changes: { at: string; afterKillMs: number; alert: string; state: string }[] = [];
  const current = new Map<string, string>();
  const keyOf = (alert: PrometheusAlert) => {
    const { alertname, ...rest } = alert.labels;
    return `${alertname}${JSON.stringify(rest)}`;
  };
  const note = (alert: string, state: string) => {
    const change = { at: new Date().toISOString(), afterKillMs: Date.now() - since(), alert, state };
    changes.push(change);
    console.log(
      `[alerts] ${change.at} (${(change.afterKillMs / 1000).toFixed(1)} s after the kill) ${alert}: ${state}`,
    );
  };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const seen = new Set<string>();
      for (const alert of (await source.alerts().catch(() => null)) ?? []) {
        const key = keyOf(alert);
        seen.add(key);
        if (current.get(key) !== alert.state) note(key, alert.state);
        current.set(key, alert.state);
      }
      for (const key of current.keys()) {
        if (!seen.has(key)) {
          note(key, "resolved");
          current.delete(key);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    changes,
    stateOf: (alertname: string) => [...current].find(([key]) => key.startsWith(`${alertname}{`))?.[1],
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/** A viewer polling one data procedure, so the app queries QuestDB (and finds it gone). */
function pollAnswers(appUrl: string) {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await fetch(`${appUrl}/api/trpc/sessions.active`, { signal: AbortSignal.timeout(5_000) })
        .then((response) => response.arrayBuffer())
        .catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

beforeAll(async () => {
  ensureBuild();
  questdb = await startTestQuestdb({ dataDir: path.join(scratch, "questdb") });
  await createSchema(questdb.pgUrl);
  app = await startApp({
    root: APP_ROOT,
    port: await findFreePort(),
    logFile: path.join(scratch, "app.log"),
    env: {
      AUTH_MODE: "none",
      METRICS_TOKEN: TOKEN,
      QUESTDB_URL: questdb.pgUrl,
      QUESTDB_HTTP_URL: questdb.httpUrl,
      // The breaker probes again 2 s after it opened, so it closes soon after QuestDB is back.
      QUESTDB_BREAKER_RECOVERY_MS: "2000",
      DASHBOARD_DATA_DIR: path.join(scratch, "data"),
      RATE_LIMIT_PER_MINUTE: "0",
      LOG_LEVEL: "warn",
    },
    readyTimeoutMs: 90_000,
  });
  prometheus = await startPrometheus({
    config: prometheusConfig(app.url),
    files: { "rules.yml": testRules(), "questdb-dashboard.token": `${TOKEN}\n` },
  });
}, 600_000);

afterAll(async () => {
  await prometheus?.stop();
  await app?.stop();
  await questdb?.stop();
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe("the shipped rules in a real Prometheus", () => {
  it("sees QuestDB unreachable go pending, then firing, then resolve once QuestDB is back", async () => {
    // The token is needed, and Prometheus has it from its file.
    const refused = await fetch(`${app.url}/api/metrics`);
    expect(refused.status).toBe(401);
    const target = await eventually(async () => (await prometheus.targets()).find((t) => t.health === "up"), {
      what: "Prometheus scraping /api/metrics with the token",
    });
    expect(target.scrapeUrl).toBe(`${app.url}/api/metrics`);
    // What it scrapes keeps Prometheus's naming rules.
    const text = await (
      await fetch(`${app.url}/api/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    expect(runPromtool(["check", "metrics"], { input: text })).toEqual({ code: 0, output: "" });

    const stopPolling = pollAnswers(app.url);
    let killedAt = Date.now();
    const alerts = recordAlertStates(prometheus, () => killedAt);
    try {
      // Healthy first: answers flow and the alert is silent.
      await eventually(async () => (await fetch(`${app.url}/api/trpc/sessions.active`)).ok, { what: "an ok answer" });
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(alerts.stateOf(ALERT)).toBeUndefined();

      killedAt = Date.now();
      console.log(`[alerts] ${new Date(killedAt).toISOString()} QuestDB SIGKILLed`);
      await questdb.kill();
      await eventually(() => alerts.stateOf(ALERT) === "pending", { timeoutMs: 30_000, what: `${ALERT} pending` });
      await eventually(() => alerts.stateOf(ALERT) === "firing", { timeoutMs: 30_000, what: `${ALERT} firing` });

      const restartedAt = Date.now();
      await questdb.restart();
      console.log(
        `[alerts] ${new Date().toISOString()} QuestDB answers again (restart took ${Date.now() - restartedAt} ms)`,
      );
      await eventually(() => alerts.stateOf(ALERT) === undefined, { timeoutMs: 45_000, what: `${ALERT} resolved` });
    } finally {
      await stopPolling();
      await alerts.stop();
    }
    const states = alerts.changes.filter((c) => c.alert.startsWith(`${ALERT}{`)).map((c) => c.state);
    expect(states.slice(0, 2)).toEqual(["pending", "firing"]);
    expect(states.at(-1)).toBe("resolved");
    expect(app.unhandledErrors()).toEqual([]);
  }, 150_000);
});
