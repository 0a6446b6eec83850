import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runPromtool } from "@/harness/prometheus-process";
import { SCRAPE_SERIES, exportedSeriesNames, metricNamesIn, recordedNames, ruleExpressions } from "./metric-names";

/**
 * The shipped Prometheus config and rules, checked by Prometheus's own tool: the config parses and
 * loads the rules, the rules parse, and `promtool test rules` (rules.test.yml) sees each alert fire
 * from its series and stay silent when healthy. In vitest so that `npm test` runs them.
 */

const HERE = __dirname;
const ALERTS = [
  "QuestDBUnreachable",
  "DashboardServingCachedData",
  "QuestDBOperationSlow",
  "DashboardRedisUnavailable",
  "DashboardInstanceDown",
  "DashboardBreakerDisagreement",
  "DashboardSignInFailing",
];

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "prometheus-rules-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe("deploy/prometheus", () => {
  it("prometheus.yml passes `promtool check config`, with its token file present", () => {
    // The shipped config reads the token from /etc/prometheus/; here from a scratch copy of it.
    const tokenFile = path.join(scratch, "questdb-dashboard.token");
    fs.writeFileSync(tokenFile, "a-token-of-at-least-24-characters\n");
    const config = fs
      .readFileSync(path.join(HERE, "prometheus.yml"), "utf8")
      .replace("/etc/prometheus/questdb-dashboard.token", tokenFile);
    expect(config).toContain(tokenFile);
    fs.writeFileSync(path.join(scratch, "prometheus.yml"), config);
    fs.copyFileSync(path.join(HERE, "rules.yml"), path.join(scratch, "rules.yml"));

    const { code, output } = runPromtool(["check", "config", "prometheus.yml"], { cwd: scratch });
    expect(output).toMatch(/SUCCESS: prometheus\.yml is valid prometheus config file syntax/);
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
    expect(code, output).toBe(0);
  });

  it("prometheus.yml as shipped passes `promtool check config --syntax-only`", () => {
    const { code, output } = runPromtool(["check", "config", "--syntax-only", "prometheus.yml"], { cwd: HERE });
    expect(code, output).toBe(0);
  });

  it("rules.yml passes `promtool check rules` and defines every alert", () => {
    const { code, output } = runPromtool(["check", "rules", "rules.yml"], { cwd: HERE });
    expect(code, output).toBe(0);
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
    const rules = fs.readFileSync(path.join(HERE, "rules.yml"), "utf8");
    for (const alert of ALERTS) expect(rules).toContain(`- alert: ${alert}\n`);
  });

  it("every rule reads only series the app exports, Prometheus adds, or a recording rule defines", async () => {
    const rules = fs.readFileSync(path.join(HERE, "rules.yml"), "utf8");
    const known = new Set([...(await exportedSeriesNames()), ...SCRAPE_SERIES, ...recordedNames(rules)]);
    const exprs = ruleExpressions(rules);
    expect(exprs.length).toBe(recordedNames(rules).length + ALERTS.length);
    for (const expr of exprs) {
      const names = metricNamesIn(expr);
      expect(names.length, expr).toBeGreaterThan(0);
      for (const name of names) expect(known.has(name), `${name} in ${expr}`).toBe(true);
    }
  });

  it("every alert has a summary, a description and a runbook", () => {
    const rules = fs.readFileSync(path.join(HERE, "rules.yml"), "utf8");
    const blocks = rules.split(/\n(?= {6}- alert: )/).slice(1);
    expect(blocks.map((block) => /- alert: (\w+)/.exec(block)?.[1])).toEqual(ALERTS);
    for (const block of blocks) {
      for (const key of ["summary", "description", "runbook"]) expect(block).toMatch(new RegExp(`\\n {10}${key}: \\S`));
    }
  });

  it("rules.test.yml passes `promtool test rules`, with a firing and a silent case for every alert", () => {
    const { code, output } = runPromtool(["test", "rules", "rules.test.yml"], { cwd: HERE });
    expect(output).toContain("SUCCESS");
    expect(code, output).toBe(0);
    const tests = fs.readFileSync(path.join(HERE, "rules.test.yml"), "utf8");
    for (const alert of ALERTS) {
      const cases = tests.split(`alertname: ${alert}\n`).slice(1);
      expect(
        cases.some((rest) => /^\s*exp_alerts:\n\s*- exp_labels/.test(rest)),
        `${alert} fires`,
      ).toBe(true);
      expect(
        cases.some((rest) => /^\s*exp_alerts: \[\]/.test(rest)),
        `${alert} stays silent`,
      ).toBe(true);
    }
  });
});
