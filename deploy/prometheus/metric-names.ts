import path from "node:path";
import { Registry } from "prom-client";
import { collectProcessMetrics, createMetrics } from "@/server/observability/metrics";

/**
 * Which series the shipped rules and the Grafana dashboard read, and which exist: the names a
 * PromQL expression names, the series the app's registry exports, and the rules' recorded names.
 * The tests beside rules.yml and the dashboard use them so a renamed metric breaks a test, not a page.
 */

export const RULES_FILE = path.join(__dirname, "rules.yml");

/** Words of PromQL that look like metric names but are not. */
const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless"]);
const MORE_KEYWORDS = new Set(["bool", "offset", "inf", "nan", "Inf", "NaN"]);

/** The metric names an expression selects (functions, keywords, labels and strings left out). */
export function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "")
    .replace(/\$\w+/g, "")
    // numbers and durations (0.5, 1m, 1e3), which the name pattern would otherwise start inside
    .replace(/(^|[^a-zA-Z0-9_:])\d[\w.]*/g, "$1");
  const names = new Set<string>();
  for (const match of bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, word, call] = match;
    if (call || KEYWORDS.has(word!) || MORE_KEYWORDS.has(word!)) continue;
    names.add(word!);
  }
  return [...names];
}

/** Every series name /api/metrics can serve: the app's registry, histograms as their three series. */
export async function exportedSeriesNames(): Promise<Set<string>> {
  const registry = new Registry();
  collectProcessMetrics(registry);
  createMetrics(registry);
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    if (String(metric.type) === "histogram")
      for (const suffix of ["_bucket", "_count", "_sum"]) names.add(metric.name + suffix);
    else names.add(metric.name);
  }
  return names;
}

/** Series Prometheus itself adds to every scrape. */
export const SCRAPE_SERIES = ["up"];

/** The `expr` of every rule in a rules file (single-line and `|` blocks). */
export function ruleExpressions(rulesText: string): string[] {
  const lines = rulesText.split("\n");
  const exprs: string[] = [];
  for (const [i, line] of lines.entries()) {
    const match = /^(\s*)expr: (.*)$/.exec(line);
    if (!match) continue;
    if (match[2] !== "|") {
      exprs.push(match[2]!);
      continue;
    }
    const indent = match[1]!.length;
    const block: string[] = [];
    for (const next of lines.slice(i + 1)) {
      if (next.trim() !== "" && next.length - next.trimStart().length <= indent) break;
      block.push(next);
    }
    exprs.push(block.join("\n").trim());
  }
  return exprs;
}

/** The names the recording rules of a rules file define. */
export function recordedNames(rulesText: string): string[] {
  return [...rulesText.matchAll(/^\s*- record: (\S+)$/gm)].map((match) => match[1]!);
}
