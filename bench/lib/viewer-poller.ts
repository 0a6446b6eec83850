import { sleep } from "../../harness/stats";

/**
 * Simulated dashboard viewers: each polls at its own random phase every `intervalMs` for
 * `durationMs`, like dashboards opened at different moments; a poll does not wait for the previous
 * one (like react-query's refetchInterval).
 */

export interface ViewerPolls {
  polls: number;
  notOk: number;
  /** Why polls were not ok: "degraded: Failed to …" → count. */
  notOkWhy: Record<string, number>;
}

/** `poll` answers null when ok, otherwise what it got instead. */
export async function pollAsViewers(
  count: number,
  intervalMs: number,
  durationMs: number,
  poll: () => Promise<string | null>,
): Promise<ViewerPolls> {
  let polls = 0;
  let notOk = 0;
  const notOkWhy: Record<string, number> = {};
  const pending: Promise<void>[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: count }, async () => {
      const phase = Math.random() * intervalMs;
      for (let at = phase; at < durationMs; at += intervalMs) {
        const wait = start + at - performance.now();
        if (wait > 0) await sleep(wait);
        polls++;
        pending.push(
          poll().then((why) => {
            if (why === null) return;
            notOk++;
            notOkWhy[why] = (notOkWhy[why] ?? 0) + 1;
          }),
        );
      }
    }),
  );
  await Promise.all(pending);
  return { polls, notOk, notOkWhy };
}
