import type { QuestdbProcess } from "../../harness/questdb-process";
import type { FigureKey } from "./report";
import type { Build, ServerProcess } from "./processes";
import type { Spread } from "../../harness/stats";

/** What every scenario receives, and what it hands back for the report. */

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
  /** Details of a whole scenario, given once: each entry lands in latest.json at `details.<name>`, beside the figures' own. */
  reportDetails?: Record<string, Record<string, unknown>>;
  error?: string;
}

export type Figures = Partial<Record<FigureKey, FigureResult>>;

/** One entry of bench/run.ts's scenario table: BENCH_ONLY selects entries by name. */
export interface Scenario {
  name: string;
  /** The figures it produces: each is marked failed when the scenario throws, or when it comes back with `error` set. */
  keys: FigureKey[];
  title: string;
  run(ctx: BenchContext): Promise<Figures>;
}
