import type { Sender } from "@questdb/nodejs-client";
import type { TradeSymbol } from "../contract/market";
import { randomAmount } from "./random-walk";
import { TABLES } from "./schema";

/** Rows into QuestDB with ILP over HTTP: the Sender's configuration and the two kinds of row. */

/** The ILP-over-HTTP configuration string for a QuestDB HTTP URL (extra `key=value` options appended). */
export function ilpConfig(httpUrl: string, extra: Record<string, string | number> = {}): string {
  const url = new URL(httpUrl);
  const protocol = url.protocol === "https:" ? "https" : "http";
  const port = url.port || (protocol === "https" ? "443" : "80");
  let config = `${protocol}::addr=${url.hostname}:${port};`;
  if (url.username)
    config += `username=${decodeURIComponent(url.username)};password=${decodeURIComponent(url.password)};`;
  for (const [key, value] of Object.entries(extra)) config += `${key}=${value};`;
  return config;
}

/** Appends one trade to the sender's buffer; the side follows the price move (a coin toss when flat). */
export async function appendTrade(
  sender: Sender,
  symbol: TradeSymbol,
  from: number,
  to: number,
  tsUs: number,
): Promise<void> {
  const side = to > from ? "buy" : to < from ? "sell" : Math.random() < 0.5 ? "buy" : "sell";
  await sender
    .table(TABLES.trades)
    .symbol("symbol", symbol)
    .symbol("side", side)
    .floatColumn("price", to)
    .floatColumn("amount", randomAmount(symbol))
    .at(tsUs, "us");
}

/** One change of a trading session, as stored in `session_events`. */
export interface SessionEvent {
  sessionId: string;
  strategy: string;
  symbol: string;
  /** "live" or "paper" (the feed passes on what it read back from the table). */
  mode: string;
  status: "running" | "stopped";
  pnl: number;
  startedAtUs: number;
}

/** Appends one session event to the sender's buffer. */
export async function appendSessionEvent(sender: Sender, event: SessionEvent, tsUs: number): Promise<void> {
  await sender
    .table(TABLES.sessionEvents)
    .symbol("session_id", event.sessionId)
    .symbol("strategy", event.strategy)
    .symbol("symbol", event.symbol)
    .symbol("mode", event.mode)
    .symbol("status", event.status)
    .floatColumn("pnl", event.pnl)
    .timestampColumn("started_at", event.startedAtUs, "us")
    .at(tsUs, "us");
}
