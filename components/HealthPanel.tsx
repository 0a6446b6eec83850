"use client";

import type { RouterOutputs } from "@/server/root";
import { BreakerStatus } from "./BreakerStatus";
import { HealthTimeline } from "./HealthTimeline";
import { PanelFrame } from "./PanelFrame";
import { formatAgo, formatClock, useNow } from "./time";

type Health = RouterOutputs["health"]["status"];
type Timeline = RouterOutputs["health"]["timeline"];

export interface HealthPanelProps {
  health: Health | undefined;
  unreachableSince: number | null;
  lastDataAt: number;
  /** The last 15 minutes, drawn under the figures. */
  timeline?: Timeline;
}

/** Breaker, pool and the last success and error: the same object as GET /api/health. */
export function HealthPanel({ health, unreachableSince, lastDataAt, timeline }: HealthPanelProps) {
  const now = useNow();
  const q = health?.questdb;
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
      <dl className="health">
        <dt>Circuit breaker</dt>
        <dd>
          <BreakerStatus state={unreachableSince !== null ? null : (q?.breaker ?? null)} />
        </dd>
        <dt>Last success</dt>
        <dd data-testid="health-last-success" suppressHydrationWarning>
          {q?.lastSuccessAt ? `${formatClock(q.lastSuccessAt)} (${formatAgo(q.lastSuccessAt, now)})` : "none yet"}
        </dd>
        <dt>Last error</dt>
        <dd data-testid="health-last-error" className="health-error">
          {q?.lastError ?? "none"}
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
