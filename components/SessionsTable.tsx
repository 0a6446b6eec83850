"use client";

import { useState } from "react";
import type { RouterOutputs } from "@/server/root";
import { formatAgo, useNow } from "./time";

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

export function SessionsTable({ sessions }: { sessions: Session[] }) {
  const now = useNow();
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
            <td>
              <span className="strategy">{session.strategy}</span>
              <span className="session-id">{session.sessionId}</span>
            </td>
            <td>{session.symbol}</td>
            <td>
              <span className={`mode mode-${session.mode}`}>{session.mode}</span>
            </td>
            <td className={`num pnl ${session.pnl >= 0 ? "pnl-up" : "pnl-down"}`} data-testid="session-pnl">
              {money.format(session.pnl)}
            </td>
            <td>
              <time dateTime={session.startedAt} title={session.startedAt} suppressHydrationWarning>
                {formatAgo(session.startedAt, now).replace(/ ago$/, "")}
              </time>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
