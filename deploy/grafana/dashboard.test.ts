import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  RULES_FILE,
  SCRAPE_SERIES,
  exportedSeriesNames,
  metricNamesIn,
  recordedNames,
} from "@/deploy/prometheus/metric-names";
import { runPromtool } from "@/harness/prometheus-process";

/**
 * The Grafana dashboard without a Grafana at hand: it is provisioning-ready JSON, every panel's query
 * is valid PromQL (promtool parses it as a rule) and names only series the app exports, Prometheus
 * adds, or deploy/prometheus/rules.yml records; and every series of the app is drawn somewhere.
 */

interface Target {
  expr: string;
  refId: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}

/** How every panel names its data source: the dashboard's `datasource` variable, as Grafana writes it. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JavaScript template
const DATASOURCE = { type: "prometheus", uid: "${datasource}" };
const DASHBOARD_FILE = path.join(__dirname, "dashboards", "questdb-dashboard.json");
const dashboard = JSON.parse(fs.readFileSync(DASHBOARD_FILE, "utf8")) as {
  id: unknown;
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: { name: string; type: string; query: unknown }[] };
  panels: Panel[];
};
const queryPanels = dashboard.panels.filter((panel) => panel.type !== "row");
const targets = queryPanels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel, target })));

/** Series the app exports that no panel needs to draw (the same count is drawn another way). */
const NOT_DRAWN = new Set(["dashboard_degraded_responses_total", "questdb_breaker_transitions_total"]);

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "grafana-dashboard-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe("deploy/grafana dashboard", () => {
  it("is provisioning-ready: no id, a fixed uid, a Prometheus data source chosen by variable", () => {
    expect(dashboard.id).toBeNull();
    expect(dashboard.uid).toBe("questdb-dashboard");
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list.find((v) => v.name === "datasource")).toMatchObject({
      type: "datasource",
      query: "prometheus",
    });
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of queryPanels) {
      expect(panel.datasource, panel.title).toEqual(DATASOURCE);
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    }
    const provisioning = fs.readFileSync(
      path.join(__dirname, "provisioning", "dashboards", "questdb-dashboard.yml"),
      "utf8",
    );
    expect(provisioning).toMatch(/^apiVersion: 1$/m);
    expect(provisioning).toMatch(/^\s+type: file$/m);
  });

  it("draws breaker state, answers, latency p50/p95/p99, retries, pool, cache, live topics and Redis", () => {
    const exprs = targets.map(({ target }) => target.expr).join("\n");
    for (const name of [
      "questdb_breaker_state",
      "instance_status:dashboard_answers:rate5m",
      "instance_reason:dashboard_answers_degraded:ratio_rate5m",
      "operation:questdb_query_duration_seconds:p50_rate5m",
      "operation:questdb_query_duration_seconds:p95_rate5m",
      "operation:questdb_query_duration_seconds:p99_rate5m",
      "questdb_retries_total",
      "questdb_pool_connections",
      "dashboard_cache_hits_total",
      "dashboard_live_topics",
      "dashboard_live_streams",
      "dashboard_redis_state",
    ]) {
      expect(exprs).toContain(name);
    }
  });

  it("names in every query only series the app exports, Prometheus adds, or the rules record", async () => {
    const rules = fs.readFileSync(RULES_FILE, "utf8");
    const exported = await exportedSeriesNames();
    const known = new Set([...exported, ...SCRAPE_SERIES, ...recordedNames(rules)]);
    const drawn = new Set<string>();
    for (const { panel, target } of targets) {
      const names = metricNamesIn(target.expr);
      expect(names.length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
      for (const name of names) {
        expect(known.has(name), `${panel.title}: ${name}`).toBe(true);
        drawn.add(name);
      }
    }
    // And the other way round: each of the app's own series has a panel (or a rule the panels read).
    const readByRules: string[] = rules.match(/\b(dashboard|questdb)_\w+/g) ?? [];
    for (const name of exported) {
      if (!/^(dashboard|questdb)_/.test(name) || NOT_DRAWN.has(name)) continue;
      if (name.endsWith("_bucket") || name.endsWith("_sum")) continue;
      expect(drawn.has(name) || readByRules.includes(name), `${name} is drawn`).toBe(true);
    }
  });

  it("has only queries that promtool parses as PromQL", () => {
    // Grafana's variables become what Grafana would put there, each query a recording rule.
    const rules = targets.map(({ target }, i) => {
      const expr = target.expr.replaceAll("$__rate_interval", "1m").replaceAll("$instance", ".*");
      return `      - record: grafana_panel_query_${i}\n        expr: ${JSON.stringify(expr)}`;
    });
    const file = path.join(scratch, "panel-queries.yml");
    fs.writeFileSync(file, `groups:\n  - name: panels\n    rules:\n${rules.join("\n")}\n`);
    const { code, output } = runPromtool(["check", "rules", file]);
    expect(code, output).toBe(0);
    expect(output).toContain(`SUCCESS: ${targets.length} rules found`);
  });
});
