import { parseEnv } from "../../../server/env";
import { fmt, sleep } from "../../../harness/stats";
import { sessionsActive } from "../../lib/app-client";
import type { BenchContext, Figures, Scenario } from "../../lib/types";
import { type PhaseError, SSE_FIGURES, type SseKey, describePhase, sseFigures } from "./figures";
import type { PhaseResult } from "./phase-result";
import { LIMIT, type Plan, planFor } from "./plan";
import { pollingPhase } from "./polling-phase";
import { ssePhase } from "./sse-phase";
import { type Db, closeDb, openDb } from "./writes";

/**
 * sseViewers: live viewers over server-sent events against polling viewers, on the one app
 * instance. For 100, 500 and 2,000 viewers, first that many subscribers to `sessions.onActive`
 * (sse-phase.ts), then as many viewers polling `sessions.active` every 2 s (polling-phase.ts),
 * both with limit 100. Over a fixed window after all are connected (window.ts): the app's CPU
 * (% of one core, its process tree from /proc) and RSS, QuestDB queries per second from the app's
 * `questdb_queries_started_total`, and the update delay: new running sessions are inserted into
 * `session_events` at known times in the window (writes.ts; a row visible to queries within
 * milliseconds, checked on a separate connection), and for each write and each viewer the time
 * from the INSERT's acknowledgement to the first event (SSE) or poll answer (polling) naming the
 * new session (sightings.ts). Stream failures, failed polls and viewers that saw no write are
 * counted. figures.ts turns the phases into the figures; plan.ts says how many and how long.
 *
 * The viewers run in this process, on the same 2 cores as the app and QuestDB: client-side CPU is
 * reported beside the app's, and the delay includes the client's own time to handle an event.
 */

export { SSE_FIGURES };

/** Until the app answers `sessions.active` ok (after the outage scenarios, its breaker may still be closing). */
async function appAnswersOk(ctx: BenchContext, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = "";
  while (performance.now() < deadline) {
    const answer = await sessionsActive(ctx.app.url, LIMIT, 10_000);
    if (answer.status === "ok") return;
    last = `${answer.status}: ${answer.message ?? ""}`;
    await sleep(500);
  }
  throw new Error(`the app did not answer sessions.active ok within ${timeoutMs / 1000} s (last: ${last})`);
}

/** Every size and mode of the plan in turn; one phase failing leaves the others' figures standing. */
async function runPhases(ctx: BenchContext, db: Db, plan: Plan) {
  const phases: PhaseResult[] = [];
  const phaseErrors: PhaseError[] = [];
  for (const size of plan.sizes) {
    for (const mode of plan.modes) {
      await sleep(1_500); // the previous phase's sockets close and its last reuse window passes
      try {
        const phase = mode === "sse" ? await ssePhase(ctx, db, plan, size) : await pollingPhase(ctx, db, plan, size);
        phases.push(phase);
        ctx.progress(`  ${describePhase(phase)}`);
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        phaseErrors.push({ mode, viewers: size, error: message });
        ctx.progress(`  ${mode} × ${fmt(size)}: FAILED — ${message}`);
      }
    }
  }
  return { phases, phaseErrors };
}

export async function sseViewerFigures(ctx: BenchContext): Promise<Figures<SseKey>> {
  const plan = planFor(ctx.quick);
  await appAnswersOk(ctx);
  const db = await openDb(ctx.questdb.pgUrl);
  let run: Awaited<ReturnType<typeof runPhases>>;
  try {
    run = await runPhases(ctx, db, plan);
  } finally {
    await closeDb(db);
  }
  const liveIntervalMs = Number(ctx.appEnv.LIVE_INTERVAL_MS ?? parseEnv({}).LIVE_INTERVAL_MS);
  return sseFigures(plan, liveIntervalMs, run.phases, run.phaseErrors);
}

/** The scenario's entry in bench/catalogue.ts (BENCH_ONLY=sseViewers). */
export const sseViewersScenario: Scenario<SseKey> = {
  name: "sseViewers",
  figures: SSE_FIGURES,
  title: "sseViewers (100 / 500 / 2,000 SSE subscribers vs as many polling viewers: delay, CPU, RSS, queries/s)",
  run: sseViewerFigures,
};
