import type { QuestdbProcess } from "../../harness/questdb-process";
import type { ServerProcess } from "./processes";
import type { Spread } from "../../harness/stats";

/** What every scenario receives, and what it hands back for the report. */

export interface BenchContext {
  questdb: QuestdbProcess;
  app: ServerProcess;
  baseline: ServerProcess;
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
  /** The figure: the median over `runs`. */
  value: number | null;
  unit: string;
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
  error?: string;
}
