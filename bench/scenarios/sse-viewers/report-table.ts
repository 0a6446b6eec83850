import { fmt } from "../../../harness/stats";
import type { PhaseResult } from "./phase-result";

/** Every size and mode of the sseViewers scenario as a table, the lines latest.md shows after the goals. */

function row(p: PhaseResult): string {
  const delay = p.delayMs ? `${fmt(p.delayMs.p50)} / ${fmt(p.delayMs.p99)} ms` : "—";
  const lag = p.delaySplit.fetchLagMs;
  const delivery = p.delaySplit.deliveryMs;
  const split = lag && delivery ? `${fmt(lag.p50)} / ${fmt(delivery.p50)} ms` : "—";
  const { queries } = p.window;
  const perSecond = queries.perSecond === null ? "—" : fmt(queries.perSecond);
  const cells = [
    fmt(p.viewers),
    p.mode,
    delay,
    split,
    `${fmt(p.window.appCpuPercent)} %`,
    `${fmt(p.window.appRssMb.max)} MB`,
    `${perSecond} (log ${fmt(queries.questdbLoggedPerSecond)})`,
    `${fmt(p.window.benchCpuPercent)} %`,
    `${p.failures} / ${p.viewersWithNoUpdate} / ${p.missed}`,
  ];
  return `| ${cells.join(" | ")} |`;
}

export function phaseTableLines(phases: PhaseResult[]): string[] {
  if (!phases.length) return [];
  return [
    "",
    "Live viewers (`sseViewers`): SSE subscribers to `sessions.onActive` vs as many viewers polling " +
      "`sessions.active` every 2 s, one window each:",
    "",
    "| viewers | mode | update delay p50 / p99 | p50 write → fetch / fetch → viewer | app CPU (% of a core) | " +
      "app RSS max | QuestDB queries/s (counter, log) | bench CPU | failures / no update / missed |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...phases.map(row),
  ];
}
