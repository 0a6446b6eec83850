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
    quietCell(p),
  ];
  return `| ${cells.join(" | ")} |`;
}

/** SSE only: the window with no writes — full queries/s, the detector's, app and QuestDB CPU. */
function quietCell(p: PhaseResult): string {
  const quiet = p.sse?.quiet;
  if (!quiet) return "—";
  const perSecond = (v: number | null) => (v === null ? "—" : fmt(v));
  return (
    `${perSecond(quiet.queriesPerSecond)} full, ${perSecond(quiet.detectorPerSecond)} detector; ` +
    `app ${fmt(quiet.appCpuPercent)} %, QuestDB ${fmt(quiet.questdbCpuPercent)} %`
  );
}

export function phaseTableLines(phases: PhaseResult[]): string[] {
  if (!phases.length) return [];
  return [
    "",
    "Live viewers (`sseViewers`): SSE subscribers to `sessions.onActive` vs as many viewers polling " +
      "`sessions.active` every 2 s, one window each:",
    "",
    "| viewers | mode | update delay p50 / p99 | p50 write → fetch / fetch → viewer | app CPU (% of a core) | " +
      "app RSS max | QuestDB queries/s (counter, log) | bench CPU | failures / no update / missed | " +
      "no writes for 10 s: queries/s, CPU |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...phases.map(row),
  ];
}
