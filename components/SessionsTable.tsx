"use client";

import { useState } from "react";
import type { RouterOutputs } from "@/server/root";
import { useNow, useTimeZone } from "./clock";
import { type CsvCell, toCsv } from "./csv";
import { formatAgo, formatClock } from "./time";

type Session = NonNullable<RouterOutputs["sessions"]["active"]["data"]>[number];
type SortKey = "pnl" | "age";
type SortDir = "asc" | "desc";

const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", signDisplay: "always" });

function sortSessions(sessions: Session[], key: SortKey | null, dir: SortDir): Session[] {
  if (!key) return sessions; // the server's order: newest first
  const sign = dir === "asc" ? 1 : -1;
  const value = (s: Session) => (key === "pnl" ? s.pnl : -new Date(s.startedAt).getTime());
  return [...sessions].sort((a, b) => sign * (value(a) - value(b)));
}

/** The trading mode in words that are not the connection's: real money or paper. */
const MODE_WORDS: Record<Session["mode"], string> = { live: "Real money", paper: "Paper" };

/** The sessions as CSV, every field the table shows, times as ISO-8601 (UTC). */
export function sessionsCsv(sessions: readonly Session[]): string {
  const rows: CsvCell[][] = sessions.map((s) => [s.strategy, s.sessionId, s.symbol, s.mode, s.pnl, s.startedAt]);
  return toCsv(["strategy", "session_id", "symbol", "mode", "pnl_usd", "started_at"], rows);
}

export interface SessionsTableProps {
  sessions: Session[];
  /** When the rows were fetched, if they are cached; null when live. Said in the table's caption. */
  cachedAsOf?: string | null;
}

export function SessionsTable({ sessions, cachedAsOf = null }: SessionsTableProps) {
  const now = useNow();
  const timeZone = useTimeZone();
  const [sort, setSort] = useState<{ key: SortKey | null; dir: SortDir }>({ key: null, dir: "desc" });
  const rows = sortSessions(sessions, sort.key, sort.dir);

  const toggle = (key: SortKey) =>
    setSort((current) => ({ key, dir: current.key === key && current.dir === "desc" ? "asc" : "desc" }));
  const ariaSort = (key: SortKey) =>
    sort.key === key ? (sort.dir === "asc" ? "ascending" : "descending") : ("none" as const);

  if (sessions.length === 0) {
    return <p className="empty">No active trading sessions.</p>;
  }

  return (
    <table className="sessions" data-testid="sessions-table">
      <caption className={cachedAsOf ? "caption-stale" : "visually-hidden"}>
        {cachedAsOf
          ? `Active sessions — cached data as of ${formatClock(cachedAsOf, timeZone)}, not current`
          : "Active sessions, newest first"}
      </caption>
      <thead>
        <tr>
          <th scope="col">Strategy</th>
          <th scope="col">Symbol</th>
          <th scope="col">Mode</th>
          <th scope="col" aria-sort={ariaSort("pnl")} className="num">
            <button type="button" onClick={() => toggle("pnl")}>
              PnL {sort.key === "pnl" ? (sort.dir === "asc" ? "▲" : "▼") : ""}
            </button>
          </th>
          <th scope="col" aria-sort={ariaSort("age")}>
            <button type="button" onClick={() => toggle("age")}>
              Running since {sort.key === "age" ? (sort.dir === "asc" ? "▲" : "▼") : ""}
            </button>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((session) => (
          <tr key={session.sessionId} data-testid="sessions-row" data-session-id={session.sessionId}>
            <td data-label="Strategy">
              <span className="strategy">{session.strategy}</span>
              <span className="session-id">{session.sessionId}</span>
            </td>
            <td data-label="Symbol">{session.symbol}</td>
            <td data-label="Mode">
              <span className={`mode mode-${session.mode}`}>{MODE_WORDS[session.mode]}</span>
            </td>
            <td
              className={`num pnl ${session.pnl >= 0 ? "pnl-up" : "pnl-down"}`}
              data-testid="session-pnl"
              data-label="PnL"
            >
              {money.format(session.pnl)}
            </td>
            <td data-label="Running since">
              <time dateTime={session.startedAt} title={formatClock(session.startedAt, timeZone)}>
                {formatAgo(session.startedAt, now).replace(/ ago$/, "")}
              </time>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
