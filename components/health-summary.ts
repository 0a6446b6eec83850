import { formatClock, formatDuration } from "./time";

/**
 * The health panel's first line says what callers see — "QuestDB not answering for 7 s" — not
 * the breaker: a frozen QuestDB times every query out while the breaker is still closed.
 */

export interface HealthFacts {
  /** /api/health's status. */
  status: "ok" | "degraded";
  lastSuccessAt: string | null;
  /** A data panel's last answer says QuestDB could not be reached. */
  callersFailing: boolean;
  now: number;
}

export function healthSummary(facts: HealthFacts): { answering: boolean; words: string } {
  const since = facts.lastSuccessAt ? Date.parse(facts.lastSuccessAt) : null;
  if (facts.status === "degraded" || facts.callersFailing) {
    const words =
      since !== null ? `QuestDB not answering for ${formatDuration(facts.now - since)}` : "QuestDB not answering";
    return { answering: false, words };
  }
  return { answering: true, words: "QuestDB answering" };
}

export interface LastErrorFacts {
  lastError: string | null;
  /** When the error happened (/api/health's `lastErrorAt`); null from a server that does not say. */
  lastErrorAt: string | null;
  answering: boolean;
  /** The last 15 minutes' outages: the latest ended one dates a resolved error. */
  outages: ReadonlyArray<{ from: string; to: string | null }>;
  timeZone: string;
}

/** "Last error": the current one as it is; once QuestDB answers again, as history with its time. */
export function lastErrorWords(facts: LastErrorFacts): { history: boolean; words: string } {
  const { lastError, lastErrorAt, answering, outages, timeZone } = facts;
  if (!lastError) return { history: false, words: "none" };
  if (!answering) {
    return {
      history: false,
      words: lastErrorAt ? `${lastError} (at ${formatClock(lastErrorAt, timeZone)})` : lastError,
    };
  }
  const ended = outages.filter((o) => o.to !== null).at(-1)?.to ?? null;
  const when = lastErrorAt
    ? ` at ${formatClock(lastErrorAt, timeZone)}`
    : ended
      ? ` (outage ended ${formatClock(ended, timeZone)})`
      : " (more than 15 min ago)";
  return { history: true, words: `Resolved${when}: ${lastError}` };
}
