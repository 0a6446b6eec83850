"use client";

import type { RouterOutputs } from "@/server/root";
import { BreakerStatus } from "./BreakerStatus";
import { useNow, useTimeZone } from "./clock";
import { healthSummary, lastErrorWords } from "./health-summary";
import { HealthTimeline } from "./HealthTimeline";
import { PanelFrame } from "./PanelFrame";
import { formatAgo, formatClock } from "./time";

type Health = RouterOutputs["health"]["status"];
type Timeline = RouterOutputs["health"]["timeline"];

export interface HealthPanelProps {
  health: Health | undefined;
  unreachableSince: number | null;
  lastDataAt: number;
  /** The last 15 minutes, drawn under the figures. */
  timeline?: Timeline;
  /** A data panel's last answer says QuestDB could not be reached (before the breaker may say so). */
  callersFailing?: boolean;
}

/** What callers see first, then the breaker, pool and the last success and error: GET /api/health's object. */
export function HealthPanel({
  health,
  unreachableSince,
  lastDataAt,
  timeline,
  callersFailing = false,
}: HealthPanelProps) {
  const now = useNow();
  const timeZone = useTimeZone();
  const q = health?.questdb;
  const summary = q
    ? healthSummary({ status: health.status, lastSuccessAt: q.lastSuccessAt, callersFailing, now })
    : null;
  const lastError = lastErrorWords({
    lastError: q?.lastError ?? null,
    lastErrorAt: q?.lastErrorAt ?? null,
    answering: summary?.answering ?? true,
    outages: timeline?.outages ?? [],
    timeZone,
  });
  return (
    <PanelFrame
      title="Service health"
      headingId="health-title"
      state={unreachableSince ? "unreachable" : (health?.status ?? "loading")}
      className="panel-health"
      appUnreachable={
        unreachableSince !== null
          ? { since: unreachableSince, lastDataAt: lastDataAt || null, testId: "health-app-unreachable-banner" }
          : null
      }
    >
      {summary && unreachableSince === null && (
        <p
          className={`health-summary ${summary.answering ? "health-answering" : "health-not-answering"}`}
          data-testid="health-summary"
        >
          {summary.words}
        </p>
      )}
      <dl className="health">
        <dt>Circuit breaker</dt>
        <dd>
          <BreakerStatus state={unreachableSince !== null ? null : (q?.breaker ?? null)} />
        </dd>
        <dt>Last success</dt>
        <dd data-testid="health-last-success">
          {q?.lastSuccessAt
            ? `${formatClock(q.lastSuccessAt, timeZone)} (${formatAgo(q.lastSuccessAt, now)})`
            : "none yet"}
        </dd>
        <dt>Last error</dt>
        <dd data-testid="health-last-error" className={lastError.history ? "health-error history" : "health-error"}>
          {lastError.words}
        </dd>
        <dt>Pool</dt>
        <dd data-testid="health-pool">
          {q ? `${q.pool.total} connections · ${q.pool.idle} idle · ${q.pool.waiting} waiting` : "—"}
        </dd>
      </dl>
      <HealthTimeline timeline={timeline} />
    </PanelFrame>
  );
}
