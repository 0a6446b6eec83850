import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fmt } from "../../harness/stats";
import type { FigureResult } from "./types";

/** bench/results/latest.json and latest.md from the scenarios' results. */

export const FIGURE_KEYS = [
  "overheadRatio",
  "killToDegradedMs",
  "hangToDegradedMs",
  "breakerOpenP99Ms",
  "recoveryMs",
  "dbQueriesPerViewerPoll",
  "throughputRps",
] as const;
export type FigureKey = (typeof FIGURE_KEYS)[number];

export const GOALS: Record<FigureKey, { max: number; text: string } | null> = {
  overheadRatio: { max: 1.1, text: "≤ 1.10" },
  killToDegradedMs: { max: 2_000, text: "≤ 2,000 ms" },
  hangToDegradedMs: { max: 3_500, text: "≤ 3,500 ms" },
  breakerOpenP99Ms: { max: 10, text: "≤ 10 ms" },
  recoveryMs: { max: 5_000, text: "≤ 5,000 ms" },
  dbQueriesPerViewerPoll: { max: 0.05, text: "≤ 0.05" },
  throughputRps: null,
};

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
  figures: Record<FigureKey, number | null>;
  baselines: Record<FigureKey, FigureResult["baseline"]>;
  ratios: Record<FigureKey, number | null>;
  runs: Record<FigureKey, { label: string; values: number[]; min: number | null; median: number | null; max: number | null }>;
  goals: Record<FigureKey, { goal: string; met: boolean | null } | null>;
  crossCheck: unknown;
  details: Record<FigureKey, Record<string, unknown>>;
  notes: string[];
  errors: Partial<Record<FigureKey, string>>;
  setup: Record<string, unknown>;
}

const missing = (key: FigureKey, error: string): FigureResult => ({
  value: null,
  unit: "",
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

export function buildReport(
  results: Partial<Record<FigureKey, FigureResult>>,
  errors: Partial<Record<FigureKey, string>>,
  meta: { date: Date; quick: boolean; durationSeconds: number; machine: Machine; setup: Record<string, unknown> },
): { report: Report; all: Record<FigureKey, FigureResult> } {
  const all = {} as Record<FigureKey, FigureResult>;
  for (const key of FIGURE_KEYS) all[key] = results[key] ?? missing(key, errors[key] ?? "not run");
  const pick = <T>(f: (r: FigureResult, key: FigureKey) => T) =>
    Object.fromEntries(FIGURE_KEYS.map((key) => [key, f(all[key], key)])) as Record<FigureKey, T>;
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
    goals: pick((r, key) => {
      const goal = GOALS[key];
      return goal ? { goal: goal.text, met: r.value === null ? null : r.value <= goal.max } : null;
    }),
    crossCheck: all.dbQueriesPerViewerPoll.details.crossCheck ?? null,
    details: pick((r) => r.details),
    notes: FIGURE_KEYS.flatMap((key) => all[key].notes ?? []),
    errors,
    setup: meta.setup,
  };
  return { report, all };
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function markdown(report: Report, all: Record<FigureKey, FigureResult>): string {
  const m = report.machine;
  const lines: string[] = [];
  lines.push(`# Benchmarks — ${report.quick ? "QUICK run (not for numbers)" : "latest run"}`);
  lines.push("");
  lines.push(
    `${report.date.slice(0, 16).replace("T", " ")} UTC · ${m.cpus} CPUs (${m.cpuModel}) · Node ${m.node} · QuestDB ${m.questdb} · ` +
      `${m.java} · load average ${m.loadAverageAtStart.map((l) => l.toFixed(2)).join(" ")} at the start · ${Math.round(report.durationSeconds / 60)} min run`,
  );
  lines.push("");
  lines.push("| figure | ours | baseline | ratio | runs | min / median / max |");
  lines.push("| --- | --- | --- | --- | --- | --- |");
  for (const key of FIGURE_KEYS) {
    const r = all[key];
    const s = r.spread ? `${fmt(r.spread.min)} / ${fmt(r.spread.median)} / ${fmt(r.spread.max)}` : "—";
    lines.push(`| \`${key}\` | ${cell(r.display)} | ${cell(r.baseline.display)} | ${cell(r.ratioDisplay)} | ${cell(r.runsLabel)} | ${s} |`);
  }
  lines.push("");
  lines.push("Goals:");
  for (const key of FIGURE_KEYS) {
    const goal = report.goals[key];
    if (!goal) continue;
    const value = report.figures[key];
    const mark = goal.met === null ? "not measured" : goal.met ? "met" : "**missed**";
    lines.push(`- \`${key}\` ${goal.goal}: ${value === null ? "—" : fmt(value)} — ${mark}`);
  }
  const cross = report.crossCheck as
    | { appCounterTotal: number; questdbLoggedAppTotal: number; baselineCounterTotal: number; questdbLoggedBaselineTotal: number }
    | null;
  if (cross) {
    lines.push("");
    lines.push(
      `Cross-check (viewer runs): the app's \`questdb_queries_started_total\` counted ${fmt(cross.appCounterTotal)} queries, ` +
        `QuestDB's log shows ${fmt(cross.questdbLoggedAppTotal)} executions of the app's SQL; the baseline counted ` +
        `${fmt(cross.baselineCounterTotal)}, QuestDB logged ${fmt(cross.questdbLoggedBaselineTotal)}.`,
    );
  }
  const notes = FIGURE_KEYS.flatMap((key) => all[key].notes ?? []);
  if (notes.length) {
    lines.push("");
    lines.push("Notes:");
    for (const note of notes) lines.push(`- ${cell(note)}`);
  }
  const errors = Object.entries(report.errors);
  if (errors.length) {
    lines.push("");
    lines.push("Failed:");
    for (const [key, message] of errors) lines.push(`- \`${key}\`: ${cell(String(message).split("\n")[0]!)}`);
  }
  lines.push("");
  lines.push("How each figure is measured (details and every run in `latest.json`):");
  lines.push(
    "- **overheadRatio** — in-process, one call at a time, interleaved: the tRPC server-side caller over the app's resilient layer " +
      "vs the same SQL on a plain `pg.Pool`. The 1 s reuse of a success is set to 0 for this figure (the real `createResilientQuery` " +
      "with the service's own pool, policy and cache), so every call reaches QuestDB — the app's counter confirms one query per call.",
  );
  lines.push(
    "- **killToDegradedMs / hangToDegradedMs** — the app (`next start`, default settings) and the plain-pg route are each asked " +
      "once right after `SIGKILL` / `SIGSTOP` of QuestDB; time from the signal to the end of the answer. The last `ok` is more than 1 s " +
      "old, so the answer is not a reused success. The frozen baseline has no timeout: abandoned at 30 s.",
  );
  lines.push(
    "- **breakerOpenP99Ms** — ≥ 1,000 sequential requests while the breaker is open, timed by the client over loopback " +
      "(an upper bound of server time); every answer checked `degraded` with `breaker: open`.",
  );
  lines.push(
    "- **recoveryMs** — from the first `SELECT 1` QuestDB answers after its restart to the app's first `ok` (client polling every 50 ms), " +
      "default 30 s breaker recovery. Beside it, the seed design (same layer, no health-check release) polled the same way.",
  );
  lines.push(
    "- **dbQueriesPerViewerPoll** — 200 viewers, each polling every 2 s at its own phase for 30 s; queries counted by " +
      "`questdb_queries_started_total` and cross-checked with QuestDB's `QueryProgress exe` log lines.",
  );
  lines.push(
    "- **throughputRps** — autocannon, 64 connections, healthy QuestDB; 2xx answers per second, p50/p99 latency; " +
      "runs alternate app / plain-pg route.",
  );
  lines.push("");
  lines.push("Rerun: `npm run bench` (about 8 minutes on 2 cores; `BENCH_SKIP_BUILD=1` reuses the existing `.next` build).");
  lines.push("");
  return lines.join("\n");
}

export function writeReport(dir: string, report: Report, all: Record<FigureKey, FigureResult>): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const base = report.quick ? "quick" : "latest";
  const ext = report.quick ? ".tmp" : "";
  const json = path.join(dir, `${base}.json${ext}`);
  const md = path.join(dir, `${base}.md${ext}`);
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(md, markdown(report, all));
  return { json, md };
}
