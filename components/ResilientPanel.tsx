"use client";

import { useId, type ReactNode } from "react";
import type { Resilient } from "@/contract/answer";
import { DegradedBanner } from "./DegradedBanner";
import { ErrorState } from "./ErrorState";
import { PanelFrame } from "./PanelFrame";

/** The part of a react-query result a panel needs; tRPC's `useQuery` result fits it. */
export interface PanelQuery<T> {
  data: Resilient<T> | undefined;
  error: unknown;
  isPending: boolean;
  isFetching: boolean;
  dataUpdatedAt: number;
  errorUpdatedAt: number;
  /** The data is the previous input's, shown while the new input loads (react-query's placeholderData). */
  isPlaceholderData?: boolean;
  refetch: () => unknown;
}

export interface ResilientPanelProps<T> {
  title: string;
  query: PanelQuery<T>;
  /** The data, and when it was fetched if it is cached (null while live): said in captions and summaries. */
  children: (data: T, cachedAsOf: string | null) => ReactNode;
  /** Shown on first load instead of an empty panel. */
  skeleton?: ReactNode;
  controls?: ReactNode;
  /** Prefix for this panel's test ids; the main panel keeps the contract's bare ids. */
  testIdPrefix?: string;
  /** The section's id, also the stem of its heading's id (a generated one when absent). */
  id?: string;
  /** Said above the previous input's data while the new input loads. */
  placeholderLabel?: string;
  /** The page's one next check while QuestDB is unreachable (next-check.ts), instead of this answer's own. */
  nextCheckAt?: string;
}

/** The latest poll failed before reaching QuestDB: the browser could not reach the app itself. */
export function isAppUnreachable(
  query: Pick<PanelQuery<unknown>, "error" | "errorUpdatedAt" | "dataUpdatedAt">,
): boolean {
  return query.error != null && query.errorUpdatedAt >= query.dataUpdatedAt;
}

/** What a panel shows: "unreachable" (the app), the answer's status, or "loading" before any. */
export function panelState(query: PanelQuery<unknown>): "unreachable" | Resilient<unknown>["status"] | "loading" {
  return isAppUnreachable(query) ? "unreachable" : (query.data?.status ?? "loading");
}

export function networkErrorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error ?? "");
  return `Cannot reach the dashboard server${text ? `: ${text}` : ""}`;
}

/**
 * Renders any procedure's answer — ok, degraded (same data, marked, under a banner) or error —
 * and a failed request to the app itself. Panels reuse it; none re-implements these states.
 * It shows the query as given: which answer to keep on screen is useLiveAnswer's choice.
 */
export function ResilientPanel<T>({
  title,
  query,
  children,
  skeleton,
  controls,
  testIdPrefix = "",
  id,
  placeholderLabel,
  nextCheckAt,
}: ResilientPanelProps<T>) {
  // The previous input's data is shown, marked, until this input's answer comes.
  const placeholder = query.isPlaceholderData === true;
  const appUnreachable = isAppUnreachable(query);
  const state = panelState(query);
  const generatedId = useId();
  const headingId = `${id ?? generatedId}-title`;
  const unreachableBanner =
    appUnreachable && query.data
      ? {
          since: query.errorUpdatedAt,
          lastDataAt: query.dataUpdatedAt || null,
          testId: `${testIdPrefix}app-unreachable-banner`,
        }
      : null;
  return (
    <PanelFrame
      title={title}
      headingId={headingId}
      state={state}
      className={`panel-${state}`}
      id={id}
      controls={controls}
      appUnreachable={unreachableBanner}
    >
      <PanelBody
        query={query}
        headingId={headingId}
        testIdPrefix={testIdPrefix}
        loading={skeleton ?? <div className="skeleton" role="img" aria-busy="true" aria-label={`Loading ${title}`} />}
        placeholderLabel={placeholder ? (placeholderLabel ?? `Loading ${title}…`) : null}
        nextCheckAt={nextCheckAt}
      >
        {children}
      </PanelBody>
    </PanelFrame>
  );
}

interface PanelBodyProps<T> {
  query: PanelQuery<T>;
  headingId: string;
  testIdPrefix: string;
  loading: ReactNode;
  /** Set while the data shown is the previous input's. */
  placeholderLabel: string | null;
  nextCheckAt?: string;
  children: (data: T, cachedAsOf: string | null) => ReactNode;
}

/** What is inside the frame: the data (stale under a banner), an error state, or the loading skeleton. */
function PanelBody<T>(props: PanelBodyProps<T>) {
  const { query, headingId, testIdPrefix, loading, placeholderLabel, nextCheckAt, children } = props;
  const answer = query.data;
  const appUnreachable = isAppUnreachable(query);
  if (!answer || answer.status === "error") {
    if (!answer && !appUnreachable) return loading;
    return (
      <ErrorState
        message={answer ? answer.message : networkErrorMessage(query.error)}
        onRetry={() => void query.refetch()}
        retrying={query.isFetching}
        testId={`${testIdPrefix}error-state`}
      />
    );
  }
  const stale = answer.status === "degraded" || appUnreachable || placeholderLabel !== null;
  const cachedAsOf = answer.status === "degraded" ? answer.cachedAt : appUnreachable ? fetchedAtOf(answer) : null;
  return (
    <>
      {placeholderLabel !== null && (
        <p className="placeholder-note" data-testid={`${testIdPrefix}placeholder`}>
          {placeholderLabel}
        </p>
      )}
      {answer.status === "degraded" && placeholderLabel === null && (
        <DegradedBanner
          cachedAt={answer.cachedAt}
          reason={answer.reason}
          cause={answer.cause}
          message={answer.message}
          retryAt={answer.reason === "database_unavailable" ? (nextCheckAt ?? answer.retryAt) : answer.retryAt}
          testId={`${testIdPrefix}degraded-banner`}
        />
      )}
      {/* Stale data keeps its contrast: marked by a border, a hatched edge and a label, never by fading. */}
      <div
        className={stale ? "panel-data stale" : "panel-data"}
        aria-describedby={stale ? `${headingId}-stale` : undefined}
      >
        {stale && (
          <p id={`${headingId}-stale`} className="stale-label">
            {placeholderLabel !== null ? "The previous selection's data, not this one's" : "Cached data, not current"}
          </p>
        )}
        {children(answer.data, placeholderLabel === null ? cachedAsOf : null)}
      </div>
    </>
  );
}

function fetchedAtOf(answer: Extract<Resilient<unknown>, { status: "ok" | "degraded" }>): string {
  return answer.status === "ok" ? answer.fetchedAt : answer.cachedAt;
}
