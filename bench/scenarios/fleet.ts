import { failedFigure } from "../lib/report";
import { crashLines, startFleet, type Fleet } from "../lib/fleet-processes";
import type { BenchContext, FigureResult, Scenario } from "../lib/types";
import { FLEET_BREAKER_SPREAD, fleetBreakerSpreadMs } from "./fleet-breaker";
import { FLEET_QUERY_RATIO, fleetQueryRatio } from "./fleet-queries";
import { RESTART_IN_OUTAGE, restartInOutageStatus } from "./restart-in-outage";

/**
 * The fleet figures: an instance restarted during an outage (embedded snapshot, and Redis), then a
 * fleet of three instances sharing one Redis behind nginx — QuestDB's query rate against one
 * instance's, and how soon one instance's open breaker reaches the others. Each figure is measured
 * on its own: one that fails is reported failed and the others are still measured. Every process
 * started here is stopped here.
 */

const FLEET_SIZE = 3;

export interface FleetFigures {
  restartInOutageStatus: FigureResult;
  fleetQueryRatio: FigureResult;
  fleetBreakerSpreadMs: FigureResult;
}

/** The figure, or a failed entry naming why (the scenario goes on with the next one). */
async function measured(
  ctx: BenchContext,
  key: keyof FleetFigures,
  measure: () => Promise<FigureResult>,
): Promise<FigureResult> {
  try {
    return await measure();
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    ctx.progress(`  ${key}: FAILED — ${message}`);
    return failedFigure(key, message);
  }
}

export async function fleetFigures(ctx: BenchContext): Promise<FleetFigures> {
  const restart = await measured(ctx, "restartInOutageStatus", () => restartInOutageStatus(ctx));
  let fleet: Fleet | undefined;
  try {
    ctx.progress(`  starting a fleet: Redis, ${FLEET_SIZE} instances sharing it, nginx in front …`);
    fleet = await startFleet(ctx, FLEET_SIZE);
    const started = fleet;
    const queries = await measured(ctx, "fleetQueryRatio", () => fleetQueryRatio(ctx, started));
    const breaker = await measured(ctx, "fleetBreakerSpreadMs", () => fleetBreakerSpreadMs(ctx, started));
    const crashes = started.instances.flatMap((i) => crashLines(i).map((line) => `${i.name}: ${line}`));
    for (const figure of [queries, breaker])
      figure.details = { ...figure.details, fleetCrashOrUnhandledLines: crashes };
    return { restartInOutageStatus: restart, fleetQueryRatio: queries, fleetBreakerSpreadMs: breaker };
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    ctx.progress(`  the fleet: FAILED — ${message}`);
    return {
      restartInOutageStatus: restart,
      fleetQueryRatio: failedFigure("fleetQueryRatio", message),
      fleetBreakerSpreadMs: failedFigure("fleetBreakerSpreadMs", message),
    };
  } finally {
    await fleet?.stop();
  }
}

/** The fleet's entry in bench/catalogue.ts (BENCH_ONLY=fleet). */
export const fleetScenario: Scenario<keyof FleetFigures> = {
  name: "fleet",
  figures: [RESTART_IN_OUTAGE, FLEET_QUERY_RATIO, FLEET_BREAKER_SPREAD],
  title: "fleet (restartInOutageStatus; fleetQueryRatio and fleetBreakerSpreadMs over 3 instances with Redis)",
  run: fleetFigures,
};
