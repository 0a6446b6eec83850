"use client";

import type { RouterOutputs } from "@/server/root";
import { CsvButton } from "./CsvButton";
import { toCsv } from "./csv";
import type { PanelQuery } from "./ResilientPanel";

type Candle = NonNullable<RouterOutputs["market"]["candles"]["data"]>[number];

/** The candles as CSV, oldest first, times as ISO-8601 (UTC). */
export function candlesCsv(candles: readonly Candle[]): string {
  return toCsv(
    ["time", "open", "high", "low", "close", "volume"],
    candles.map((c) => [c.time, c.open, c.high, c.low, c.close, c.volume]),
  );
}

/** A panel's CSV button: what the panel shows now (cached data included), absent while it shows none. */
export function PanelCsv<T>({
  what,
  label,
  query,
  toCsv: rowsToCsv,
}: {
  what: string;
  label: string;
  query: PanelQuery<T>;
  toCsv: (data: T) => string;
}) {
  const answer = query.data;
  if (!answer || answer.status === "error") return null;
  return <CsvButton what={what} label={label} csv={() => rowsToCsv(answer.data)} />;
}
