import type { QuestdbProcess } from "../../harness/questdb-process";
import type { Build, ServerProcess } from "./processes";
import type { Spread } from "../../harness/stats";

/** What every scenario declares and receives, and what it hands back for the report. */

export interface BenchContext {
  questdb: QuestdbProcess;
  app: ServerProcess;
  baseline: ServerProcess;
  /** The app's build: scenarios that need more instances start them from it (`startApp`). */
  build: Build;
  /** The app's QuestDB settings (QUESTDB_URL, QUESTDB_HTTP_URL): what every extra instance gets too. */
  appEnv: Record<string, string>;
  /** The run's temporary directory: logs and data directories of extra instances go under it. */
  workDir: string;
  /** Fewer and shorter runs (BENCH_QUICK=1): for working on the benchmark itself, not for numbers. */
  quick: boolean;
  progress(message: string): void;
}

export interface BaselineFigure {
  /** The baseline's median, or null when it has none (no answer within the cap, or no baseline). */
  value: number | null;
  /** How the report shows it, e.g. "∞ (no answer at the 30 s cap)". */
  display: string;
  what: string;
  runs: (number | null)[];
}

export interface FigureResult {
  /** The figure: the median over `runs`, or a word for a figure that is a status ("degraded"). */
  value: number | string | null;
  runs: number[];
  spread: Spread | null;
  /** "5 kills", "5 × 2,000 calls each", … */
  runsLabel: string;
  /** The "ours" cell of the table. */
  display: string;
  baseline: BaselineFigure;
  /** ours ÷ baseline, measured side by side; null when there is no finite baseline. */
  ratio: number | null;
  ratioDisplay: string;
  details: Record<string, unknown>;
  /** One-line observations for the report's notes. */
  notes?: string[];
  /**
   * Details of a whole scenario, given once: each entry lands in latest.json at `details.<name>`,
   * beside the figures' own.
   */
  reportDetails?: Record<string, Record<string, unknown>>;
  /** The viewer runs' query counts, app against QuestDB's log: latest.json's top-level `crossCheck`. */
  crossCheck?: unknown;
  /** A scenario's own lines in latest.md, after the goals (a cross-check, a table of every run). */
  markdown?: string[];
  error?: string;
}

export type Figures<K extends string = string> = Partial<Record<K, FigureResult>>;

/** A number to stay at or under, one to reach at least (a share), or the one word a status figure must be. */
export type Goal = { text: string } & ({ max: number } | { min: number } | { equals: string });

/**
 * How figures are measured, in the words latest.md gives under its table: one bullet per method,
 * headed by the keys of every figure that shares it (figures measured together share one).
 */
export interface Method {
  text: string;
}

/** What a scenario declares about each figure it measures, beside its code; the report renders it. */
export interface FigureSpec<K extends string = string> {
  key: K;
  unit: string;
  /** Null: reported without a goal. */
  goal: Goal | null;
  method: Method;
}

/** One entry of bench/catalogue.ts's scenario table: BENCH_ONLY selects entries by name. */
export interface Scenario<K extends string = string> {
  name: string;
  /** What it measures: each is marked failed when the scenario throws, or when it comes back with `error` set. */
  figures: FigureSpec<K>[];
  title: string;
  run(ctx: BenchContext): Promise<Figures<K>>;
}
