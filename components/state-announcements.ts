import type { DegradedReason } from "@/contract/answer";
import { dataTime } from "./kept-answer";
import { isAppUnreachable, networkErrorMessage, type PanelQuery } from "./ResilientPanel";
import { formatMinutes } from "./time";

/**
 * What the page says aloud: a panel going stale, failing, or coming back — once each, never the
 * clock. A pure reducer: the panels' conditions in, the sentences to add to the live region out.
 */

/** Why a panel shows cached data: QuestDB's side (the answer's reason) or the app itself unreachable. */
export type StaleCause = DegradedReason | "app_unreachable";

/** What a panel shows, as far as a listener cares. */
export type PanelCondition =
  | { kind: "loading" }
  | { kind: "live" }
  | { kind: "stale"; asOf: number; cause: StaleCause }
  | { kind: "error"; message: string }
  /** The previous selection's data while a new one loads: no change worth saying. */
  | { kind: "switching" };

export interface ObservedPanel {
  /** The panel's name as heard: "Sessions", "Market". */
  name: string;
  condition: PanelCondition;
}

export interface Announcement {
  id: number;
  text: string;
}

export interface AnnouncerState {
  /** The last condition heard per panel (never "switching"). */
  heard: Readonly<Record<string, PanelCondition["kind"]>>;
  /** The latest sentences, newest last; a few kept so a reader that missed one finds it. */
  said: readonly Announcement[];
  nextId: number;
}

export const INITIAL_ANNOUNCER: AnnouncerState = { heard: {}, said: [], nextId: 1 };

/** How many sentences the region keeps. */
export const KEPT_ANNOUNCEMENTS = 4;

const CAUSE_WORDS: Record<StaleCause, string> = {
  database_unavailable: "QuestDB unreachable",
  query_slow: "the query is slow",
  busy: "the dashboard is busy",
  app_unreachable: "the dashboard server is unreachable",
};

/**
 * The sentence for a panel that was `previous` and is now `condition`; null when nothing worth
 * saying happened (the first look, a load, the same state again, a selection switching).
 */
export function announcementFor(
  name: string,
  previous: PanelCondition["kind"] | undefined,
  condition: PanelCondition,
  timeZone: string,
): string | null {
  if (previous === undefined || condition.kind === "switching" || condition.kind === previous) return null;
  switch (condition.kind) {
    case "stale": {
      const from = formatMinutes(condition.asOf, timeZone);
      return `${name}: showing cached data from ${from}, ${CAUSE_WORDS[condition.cause]}`;
    }
    case "error":
      return `${name}: no data to show. ${condition.message}`;
    case "live":
      return previous === "loading" ? null : `${name} live again`;
    case "loading":
      return null;
  }
}

export type AnnouncerEvent = { type: "observed"; panels: readonly ObservedPanel[]; timeZone: string };

export function announcerReducer(state: AnnouncerState, event: AnnouncerEvent): AnnouncerState {
  let { nextId } = state;
  const heard = { ...state.heard };
  const added: Announcement[] = [];
  for (const { name, condition } of event.panels) {
    const text = announcementFor(name, state.heard[name], condition, event.timeZone);
    if (text) added.push({ id: nextId++, text });
    if (condition.kind !== "switching") heard[name] = condition.kind;
  }
  const changed = Object.keys(heard).some((name) => heard[name] !== state.heard[name]);
  if (!changed && added.length === 0) return state;
  return { heard, said: [...state.said, ...added].slice(-KEPT_ANNOUNCEMENTS), nextId };
}

/** A panel's query as a condition: what useLiveAnswer hands the panel, read the way ResilientPanel shows it. */
export function panelCondition(query: PanelQuery<unknown>): PanelCondition {
  if (query.isPlaceholderData === true) return { kind: "switching" };
  const answer = query.data;
  if (isAppUnreachable(query)) {
    return answer && answer.status !== "error"
      ? { kind: "stale", asOf: dataTime(answer), cause: "app_unreachable" }
      : { kind: "error", message: networkErrorMessage(query.error) };
  }
  if (!answer) return { kind: "loading" };
  if (answer.status === "error") return { kind: "error", message: answer.message };
  if (answer.status === "degraded") return { kind: "stale", asOf: dataTime(answer), cause: answer.reason };
  return { kind: "live" };
}
