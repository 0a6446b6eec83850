import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fmt } from "../../harness/stats";
import type { FigureResult, FigureSpec, Goal } from "./types";

/**
 * bench/results/latest.json and latest.md from the scenarios' results, and README's copy of the
 * table. What each figure is, its goal and how it is measured come from the scenario that declares
 * it (FigureSpec), in the order the caller lists them.
 */

function goalMet(goal: Goal, value: FigureResult["value"]): boolean | null {
  if (value === null) return null;
  if ("max" in goal) return typeof value === "number" && value <= goal.max;
  if ("min" in goal) return typeof value === "number" && value >= goal.min;
  return value === goal.equals;
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  node: string;
  questdb: string;
  questdbBuild: string;
  java: string;
  platform: string;
  memoryGb: number;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
}

export interface Report {
  date: string;
  quick: boolean;
  durationSeconds: number;
  machine: Machine;
  figures: Record<string, FigureResult["value"]>;
  baselines: Record<string, FigureResult["baseline"]>;
  ratios: Record<string, number | null>;
  runs: Record<
    string,
    { label: string; values: number[]; min: number | null; median: number | null; max: number | null }
  >;
  goals: Record<string, { goal: string; met: boolean | null } | null>;
  crossCheck: unknown;
  /** Each figure's details, and a scenario's own (`reportDetails`, e.g. `sseViewers`). */
  details: Record<string, Record<string, unknown>>;
  notes: string[];
  errors: Record<string, string>;
  setup: Record<string, unknown>;
}

/** The table's entry for a figure that could not be measured. */
export const failedFigure = (key: string, error: string): FigureResult => ({
  value: null,
  runs: [],
  spread: null,
  runsLabel: "0",
  display: `failed: ${error.split("\n")[0]!.slice(0, 120)}`,
  baseline: { value: null, display: "—", what: "not measured", runs: [] },
  ratio: null,
  ratioDisplay: "—",
  details: {},
  error: `${key}: ${error}`,
});

/** Every figure's result in the specs' order: the ones not measured as failed, with why. */
export type AllFigures = Record<string, FigureResult>;

export function buildReport(
  specs: readonly FigureSpec[],
  results: Record<string, FigureResult | undefined>,
  errors: Record<string, string>,
  meta: { date: Date; quick: boolean; durationSeconds: number; machine: Machine; setup: Record<string, unknown> },
): { report: Report; all: AllFigures } {
  const all: AllFigures = {};
  for (const { key } of specs) all[key] = results[key] ?? failedFigure(key, errors[key] ?? "not run");
  const pick = <T>(f: (r: FigureResult, spec: FigureSpec) => T) =>
    Object.fromEntries(specs.map((spec) => [spec.key, f(all[spec.key]!, spec)])) as Record<string, T>;
  const report: Report = {
    date: meta.date.toISOString(),
    quick: meta.quick,
    durationSeconds: Math.round(meta.durationSeconds),
    machine: meta.machine,
    figures: pick((r) => r.value),
    baselines: pick((r) => r.baseline),
    ratios: pick((r) => r.ratio),
    runs: pick((r) => ({
      label: r.runsLabel,
      values: r.runs,
      min: r.spread?.min ?? null,
      median: r.spread?.median ?? null,
      max: r.spread?.max ?? null,
    })),
    goals: pick((r, { goal }) => (goal ? { goal: goal.text, met: goalMet(goal, r.value) } : null)),
    crossCheck: Object.values(all).find((r) => r.crossCheck !== undefined)?.crossCheck ?? null,
    details: Object.assign(
      pick((r) => r.details),
      ...Object.values(all).map((r) => r.reportDetails ?? {}),
    ),
    notes: Object.values(all).flatMap((r) => r.notes ?? []),
    errors,
    setup: meta.setup,
  };
  return { report, all };
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function runLine(report: Report): string {
  const m = report.machine;
  const load = m.loadAverageAtStart.map((l) => l.toFixed(2)).join(" ");
  return (
    `${report.date.slice(0, 16).replace("T", " ")} UTC · ${m.cpus} CPUs (${m.cpuModel}) · Node ${m.node} · ` +
    `QuestDB ${m.questdb} · ${m.java} · load average ${load} at the start · ` +
    `${Math.round(report.durationSeconds / 60)} min run`
  );
}

/** The figures table: one row per figure, ours beside its baseline. */
function figuresTable(all: AllFigures): string[] {
  const lines = [
    "| figure | ours | baseline | ratio | runs | min / median / max |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const [key, r] of Object.entries(all)) {
    const s = r.spread ? `${fmt(r.spread.min)} / ${fmt(r.spread.median)} / ${fmt(r.spread.max)}` : "—";
    const cells = [r.display, r.baseline.display, r.ratioDisplay, r.runsLabel].map(cell).join(" | ");
    lines.push(`| \`${key}\` | ${cells} | ${s} |`);
  }
  return lines;
}

function goalLines(report: Report): string[] {
  const lines = ["Goals:"];
  for (const [key, goal] of Object.entries(report.goals)) {
    if (!goal) continue;
    const value = report.figures[key] ?? null;
    const mark = goal.met === null ? "not measured" : goal.met ? "met" : "**missed**";
    const shown = value === null ? "—" : typeof value === "number" ? fmt(value) : value;
    lines.push(`- \`${key}\` ${goal.goal}: ${shown} — ${mark}`);
  }
  return lines;
}

/** One bullet per method, where its first figure is, headed by every figure that shares it. */
function methodLines(specs: readonly FigureSpec[]): string[] {
  const lines = ["How each figure is measured (details and every run in `latest.json`):"];
  const shown = new Set<FigureSpec["method"]>();
  for (const { method } of specs) {
    if (shown.has(method)) continue;
    shown.add(method);
    const keys = specs.filter((spec) => spec.method === method).map((spec) => spec.key);
    lines.push(`- **${keys.join(" / ")}** — ${method.text}`);
  }
  return lines;
}

export function markdown(report: Report, all: AllFigures, specs: readonly FigureSpec[]): string {
  const lines: string[] = [
    `# Benchmarks — ${report.quick ? "QUICK run (not for numbers)" : "latest run"}`,
    "",
    runLine(report),
    "",
  ];
  lines.push(...figuresTable(all), "", ...goalLines(report));
  lines.push(...Object.values(all).flatMap((r) => r.markdown ?? []));
  if (report.notes.length) lines.push("", "Notes:", ...report.notes.map((note) => `- ${cell(note)}`));
  const errors = Object.entries(report.errors);
  if (errors.length) {
    lines.push(
      "",
      "Failed:",
      ...errors.map(([key, message]) => `- \`${key}\`: ${cell(String(message).split("\n")[0]!)}`),
    );
  }
  lines.push("", ...methodLines(specs), "");
  lines.push(
    "Rerun: `npm run bench` (about 14 minutes on 2 cores; `BENCH_SKIP_BUILD=1` reuses the existing `.next` build).",
    "",
  );
  return lines.join("\n");
}

export const README_START = "<!-- bench:figures:start -->";
export const README_END = "<!-- bench:figures:end -->";

/**
 * Puts the run's line, table and goals between README's two markers; false (README untouched)
 * when the markers are missing or out of order.
 */
export function writeReadmeFigures(readmePath: string, report: Report, all: AllFigures): boolean {
  const text = readFileSync(readmePath, "utf8");
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start < 0 || end < start) return false;
  const block = [
    `Latest run — ${runLine(report)} (written by \`npm run bench\`):`,
    "",
    ...figuresTable(all),
    "",
    ...goalLines(report),
  ];
  writeFileSync(readmePath, `${text.slice(0, start + README_START.length)}\n${block.join("\n")}\n${text.slice(end)}`);
  return true;
}

export function writeReport(
  dir: string,
  report: Report,
  all: AllFigures,
  specs: readonly FigureSpec[],
): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const base = report.quick ? "quick" : "latest";
  const ext = report.quick ? ".tmp" : "";
  const json = path.join(dir, `${base}.json${ext}`);
  const md = path.join(dir, `${base}.md${ext}`);
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(md, markdown(report, all, specs));
  return { json, md };
}
