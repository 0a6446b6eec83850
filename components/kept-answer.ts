"use client";

import { useState } from "react";
import type { Resilient } from "@/contract/answer";
import type { PanelQuery } from "./ResilientPanel";

/**
 * The browser never loses data it has. Behind a load balancer the next answer may come from an
 * instance with nothing cached (an `error`) or an older cache: neither may replace rows already on
 * screen. The panel keeps showing them, as cached data "as of" their time. Which answer is older
 * is decided by the server's `version` when both carry one (hosts' clocks may disagree), else by time.
 */

type Shown<T> = Extract<Resilient<T>, { status: "ok" | "degraded" }>;

/** When the data of an answer was fetched from QuestDB. */
export function dataTime(answer: Shown<unknown>): number {
  return Date.parse(answer.status === "ok" ? answer.fetchedAt : answer.cachedAt);
}

/** Whether `next` holds older data than `kept`: by version when both have one, by time otherwise. */
export function isOlder(next: Shown<unknown>, kept: Shown<unknown>): boolean {
  if (next.version !== undefined && kept.version !== undefined) return next.version < kept.version;
  return dataTime(next) < dataTime(kept);
}

/** What to show, given what is shown (`kept`) and what just arrived (`next`). */
export function keptAnswer<T>(kept: Shown<T> | undefined, next: Resilient<T> | undefined): Resilient<T> | undefined {
  if (!next || !kept) return next;
  if (next.status !== "error" && !isOlder(next, kept)) return next;
  // An older success says nothing is wrong, only that it is late (a topic's first event, another
  // instance's answer): what is shown stays as it is, status included.
  if (next.status === "ok") return kept;
  // A failure, with older data or none: keep the rows on screen, under the failure that just arrived.
  return {
    status: "degraded",
    data: kept.data,
    cachedAt: new Date(dataTime(kept)).toISOString(),
    ...(kept.version !== undefined ? { version: kept.version } : {}),
    reason: next.reason !== "query_failed" ? next.reason : "database_unavailable",
    message: next.message,
    cause: next.cause,
    breaker: next.breaker,
    ...(next.status === "degraded" && next.retryAt ? { retryAt: next.retryAt } : {}),
  };
}

/** `answer`, unless it would take rows off the screen or turn their time backwards; reset by `inputKey`. */
export function useKeptAnswer<T>(answer: Resilient<T> | undefined, inputKey: string): Resilient<T> | undefined {
  // The last answer shown as it came (never one made up here, so the state settles in one step).
  const [kept, setKept] = useState<{ inputKey: string; answer?: Shown<T> }>({ inputKey });
  const base = kept.inputKey === inputKey ? kept.answer : undefined;
  const shown = keptAnswer(base, answer);
  const nextKept = shown === answer && answer && answer.status !== "error" ? answer : base;
  // Adjusting state while rendering, as React advises for state that follows a prop.
  if (kept.inputKey !== inputKey || kept.answer !== nextKept) setKept({ inputKey, answer: nextKept });
  return shown;
}

/**
 * The query as a panel shows it: its answer kept (useKeptAnswer) for `inputKey`; the previous
 * input's data, shown while this input loads, is passed on marked and never kept as this input's.
 */
export function useKeptQuery<T>(query: PanelQuery<T>, inputKey: string): PanelQuery<T> {
  const placeholder = query.isPlaceholderData === true;
  const kept = useKeptAnswer(placeholder ? undefined : query.data, inputKey);
  const shown = placeholder ? query.data : kept;
  return shown === query.data ? query : { ...query, data: shown };
}
