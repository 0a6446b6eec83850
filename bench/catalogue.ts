import type { FigureSpec, Scenario } from "./lib/types";
import { DISK_BYTES_PER_MINUTE, diskWritesScenario } from "./scenarios/disk-writes";
import { fleetScenario } from "./scenarios/fleet";
import { FLEET_BREAKER_SPREAD } from "./scenarios/fleet-breaker";
import { FLEET_QUERY_RATIO } from "./scenarios/fleet-queries";
import {
  BREAKER_OPEN_P99,
  HANG_TO_DEGRADED,
  KILL_TO_DEGRADED,
  RECOVERY,
  freezeScenario,
  killScenario,
} from "./scenarios/outage";
import { ADDED_LATENCY, OVERHEAD_RATIO, overheadScenario } from "./scenarios/overhead";
import { PEER_CUT_OFF_OK_SHARE, peerCutOffScenario } from "./scenarios/peer-cut-off";
import { RESTART_IN_OUTAGE } from "./scenarios/restart-in-outage";
import { SSE_FIGURES, sseViewersScenario } from "./scenarios/sse-viewers";
import { THROUGHPUT, throughputScenario } from "./scenarios/throughput";
import { DB_QUERIES_PER_VIEWER_POLL, viewersScenario } from "./scenarios/viewers";

/**
 * Every scenario of `npm run bench` in the order they run, and every figure in the order the report
 * shows them (latest.json's keys, latest.md's rows). Each figure is declared beside the scenario
 * that measures it; this file only puts them in order.
 */

export const SCENARIOS: Scenario[] = [
  overheadScenario,
  throughputScenario,
  viewersScenario,
  killScenario,
  freezeScenario,
  fleetScenario,
  peerCutOffScenario,
  diskWritesScenario,
  // Last: 2,000 polling viewers saturate the app, which should not weigh on the figures above.
  sseViewersScenario,
];

export const FIGURES: readonly FigureSpec[] = [
  ADDED_LATENCY,
  OVERHEAD_RATIO,
  KILL_TO_DEGRADED,
  HANG_TO_DEGRADED,
  BREAKER_OPEN_P99,
  RECOVERY,
  DB_QUERIES_PER_VIEWER_POLL,
  THROUGHPUT,
  RESTART_IN_OUTAGE,
  DISK_BYTES_PER_MINUTE,
  FLEET_QUERY_RATIO,
  FLEET_BREAKER_SPREAD,
  PEER_CUT_OFF_OK_SHARE,
  ...SSE_FIGURES,
];

// The report lists every figure a scenario measures, once: a figure added to a scenario but not here fails at start.
const measured = SCENARIOS.flatMap((scenario) => scenario.figures.map((figure) => figure.key)).sort();
const listed = FIGURES.map((figure) => figure.key).sort();
if (measured.join() !== listed.join()) {
  throw new Error(`bench/catalogue.ts: the scenarios measure [${measured}] but the report lists [${listed}]`);
}
