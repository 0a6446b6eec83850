import { fmtMs, median, round, sleep, spread } from "../../harness/stats";
import { health, sessionsActive } from "../lib/app-client";
import { waitFleetHealthy, type Fleet, type Instance } from "../lib/fleet-processes";
import type { BenchContext, FigureResult, FigureSpec } from "../lib/types";

/**
 * fleetBreakerSpreadMs: how soon the whole fleet fails fast once one instance's breaker opens.
 * Per episode: every instance healthy, QuestDB killed, instance A driven by concurrent requests
 * with inputs nobody has cached until its breaker opens, while A's, B's and C's /api/health are
 * each polled every 10 ms; the sample is from A's first health answer saying `open` to the last
 * of B's and C's. B and C are then asked once, at the same moment and for the same input: each
 * must fail fast (`degraded`, breaker open, within FAIL_FAST_MS).
 * QuestDB is restarted and every breaker closed before the next episode.
 */

const POLL_MS = 10;
/** Longest wait for an instance's breaker to say open; a miss counts as this in the figure. */
const CAP_MS = 15_000;
const DRIVING_CALLS = 8;
/** An answer slower than this did not fail fast, whatever it says. */
const FAIL_FAST_MS = 100;

export const FLEET_BREAKER_SPREAD: FigureSpec<"fleetBreakerSpreadMs"> = {
  key: "fleetBreakerSpreadMs",
  unit: "ms",
  goal: { max: 1_000, text: "≤ 1,000 ms" },
  method: {
    text:
      "the same three instances; QuestDB killed; instance A driven by 8 concurrent requests with inputs nobody has " +
      "cached until its breaker opens, while A's, B's and C's `/api/health` are each polled every 10 ms from the " +
      "kill: time from the first health answer of A saying `open` to the last of B and C saying `open` (0 when " +
      "they say it in the same round). B and C are then asked once, together, for the same input and must fail " +
      `fast (\`degraded\`, breaker open, ≤ ${FAIL_FAST_MS} ms; a slower answer is named in the notes). QuestDB is ` +
      "restarted and every breaker closed before the next episode; the figure is the median over the episodes.",
  },
};

interface SpreadSample {
  /** From the SIGKILL to A's health saying open. */
  aOpenAfterKillMs: number;
  /** Per other instance: from A's health saying open to its own (negative: it said so first); null: never within the cap. */
  othersAfterAMs: (number | null)[];
  spreadMs: number;
  capped: boolean;
  failFast: { instance: string; status: string; breaker: string | null; ms: number; cause: string | null }[];
  recoveryMs: number;
}

/** performance.now() at the end of the first health answer saying the breaker is open; null after the cap. */
async function firstOpen(instance: Instance, until: number): Promise<number | null> {
  while (performance.now() < until) {
    const h = await health(instance.app.url, 2_000);
    if (h?.questdb.breaker === "open") return performance.now();
    await sleep(POLL_MS);
  }
  return null;
}

async function breakerEpisode(ctx: BenchContext, fleet: Fleet, episode: number): Promise<SpreadSample> {
  const [a, ...others] = fleet.instances as [Instance, ...Instance[]];
  await waitFleetHealthy(fleet.instances);
  const t0 = performance.now();
  await ctx.questdb.kill();
  try {
    const until = performance.now() + CAP_MS;
    const watched = fleet.instances.map((i) => firstOpen(i, until));
    // Inputs no answer exists for yet (a new set each episode): each call is a failing flight of its own.
    const driving = Array.from({ length: DRIVING_CALLS }, (_, k) =>
      sessionsActive(a.app.url, 400 + episode * DRIVING_CALLS + k, 15_000),
    );
    const [aAt, ...othersAt] = await Promise.all(watched);
    await Promise.all(driving);
    if (aAt == null) throw new Error(`instance A's breaker did not open within ${CAP_MS / 1000} s of the kill`);
    const othersAfterAMs = othersAt.map((at) => (at == null ? null : round(at - aAt, 1)));
    const capped = othersAfterAMs.some((ms) => ms === null);
    const last = Math.max(...othersAfterAMs.map((ms) => ms ?? CAP_MS));
    const failFast = await Promise.all(
      others.map(async (i) => {
        const answer = await sessionsActive(i.app.url, 100, 10_000);
        return {
          instance: i.name,
          status: answer.status,
          breaker: answer.breaker ?? null,
          ms: round(answer.http.ms, 1),
          cause: answer.cause ?? null,
        };
      }),
    );
    const restartAt = performance.now();
    await ctx.questdb.restart();
    await waitFleetHealthy(fleet.instances);
    return {
      aOpenAfterKillMs: round(aAt - t0, 1),
      othersAfterAMs,
      spreadMs: Math.max(0, last),
      capped,
      failFast,
      recoveryMs: round(performance.now() - restartAt, 0),
    };
  } finally {
    if (!ctx.questdb.isRunning()) await ctx.questdb.restart();
  }
}

export async function fleetBreakerSpreadMs(ctx: BenchContext, fleet: Fleet): Promise<FigureResult> {
  const episodes = ctx.quick ? 2 : 3;
  const samples: SpreadSample[] = [];
  for (let i = 0; i < episodes; i++) {
    const s = await breakerEpisode(ctx, fleet, i);
    samples.push(s);
    ctx.progress(
      `  breaker spread ${i + 1}/${episodes}: A open ${fmtMs(s.aOpenAfterKillMs)} after the kill, others after A: ` +
        `${s.othersAfterAMs.map((ms) => (ms === null ? "never" : fmtMs(ms))).join(", ")} → ${fmtMs(s.spreadMs)} · ` +
        `fail fast: ${s.failFast.map((f) => `${f.status}/${f.breaker ?? "-"} in ${fmtMs(f.ms)}`).join(", ")} · all closed ${fmtMs(s.recoveryMs)} after the restart`,
    );
  }
  const runs = samples.map((s) => s.spreadMs);
  const value = median(runs);
  const cappedEpisodes = samples.filter((s) => s.capped).length;
  const notFast = samples
    .flatMap((s) => s.failFast)
    .filter((f) => f.status !== "degraded" || f.breaker !== "open" || f.ms > FAIL_FAST_MS);
  return {
    value,
    runs,
    spread: spread(runs),
    runsLabel: `${episodes} kills, ${fleet.instances.length} instances`,
    display: `${fmtMs(value)}${cappedEpisodes ? ` (${cappedEpisodes} episodes: an instance never said open within ${CAP_MS / 1000} s)` : ""}`,
    baseline: { value: null, display: "—", what: "none", runs: [] },
    ratio: null,
    ratioDisplay: "—",
    notes: notFast.length
      ? [
          `fleetBreakerSpreadMs: ${notFast.length} of B's/C's answers after they said open did not fail fast (degraded, breaker open, ` +
            `≤ ${FAIL_FAST_MS} ms): ${notFast.map((f) => `${f.instance} ${f.status} in ${fmtMs(f.ms)} (${f.cause ?? "no cause"})`).join("; ")}`,
        ]
      : undefined,
    details: {
      measuredFrom:
        `the end of A's first /api/health answer saying breaker open to the end of the last other instance's; each polled every ${POLL_MS} ms ` +
        "from the kill (a negative per-instance delay: it said open in the same round or before A's answer; the sample is then 0)",
      settings: "default QUESTDB_* settings; REDIS_URL shared by every instance",
      episodes: samples,
      cappedEpisodes,
      failFastWithinMs: FAIL_FAST_MS,
      answersNotFailingFast: notFast.length,
    },
  };
}
