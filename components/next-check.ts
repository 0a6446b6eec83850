import type { Resilient } from "@/contract/answer";

/**
 * One "next check" for the whole page. Every panel whose data is cached because QuestDB is
 * unreachable waits on the same breaker, but each answer carries the retry time it was given when
 * it was fetched, so two panels counted down to different moments. The latest of those times is
 * the breaker's current plan (an earlier one is from before a failed probe re-opened it). A slow
 * query waits on its own operation's breaker: it keeps its own time.
 */
export function sharedNextCheck(answers: ReadonlyArray<Resilient<unknown> | undefined>): string | undefined {
  let latest: string | undefined;
  for (const answer of answers) {
    if (answer?.status !== "degraded" || answer.reason !== "database_unavailable" || !answer.retryAt) continue;
    if (!latest || Date.parse(answer.retryAt) > Date.parse(latest)) latest = answer.retryAt;
  }
  return latest;
}
