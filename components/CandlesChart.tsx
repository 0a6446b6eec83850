"use client";

import { CandlestickSeries, HistogramSeries, type IChartApi, type UTCTimestamp } from "lightweight-charts";
import { useEffect } from "react";
import type { CandleInterval } from "@/contract/market";
import type { RouterOutputs } from "@/server/root";
import { formatPrice, summarizeCandles } from "./candles-summary";
import { ChartFigure } from "./ChartFigure";
import { ScrollRegion } from "./ScrollRegion";
import { useNow, useTimeZone } from "./clock";
import { type OutageSpan, outageShading } from "./outage-spans";
import { formatDateTime } from "./time";
import { useThemedChart } from "./use-themed-chart";

type Candle = NonNullable<RouterOutputs["market"]["candles"]["data"]>[number];

const INTERVAL_MS: Record<CandleInterval, number> = { "1m": 60_000, "5m": 300_000, "1h": 3_600_000 };

function addCandleSeries(chart: IChartApi) {
  // The outage shade first, so the candles are drawn over it; on its own hidden full-height scale.
  const outages = chart.addSeries(HistogramSeries, {
    priceScaleId: "outages",
    priceLineVisible: false,
    lastValueVisible: false,
  });
  chart.priceScale("outages").applyOptions({ visible: false, scaleMargins: { top: 0, bottom: 0 } });
  const candles = chart.addSeries(CandlestickSeries, {
    upColor: "#2ea043",
    downColor: "#f85149",
    borderVisible: false,
    wickUpColor: "#2ea043",
    wickDownColor: "#f85149",
  });
  return { candles, outages };
}

export interface CandlesChartProps {
  candles: Candle[];
  symbol: string;
  interval: CandleInterval;
  /** When the candles shown were fetched, if they are cached; null when live. */
  cachedAsOf: string | null;
  /** The last 15 minutes' outages (health.timeline), shaded on the chart. */
  outages?: readonly OutageSpan[];
}

/** OHLC candles drawn by TradingView's lightweight-charts, with outages shaded, in words and as a table. */
export function CandlesChart({ candles, symbol, interval, cachedAsOf, outages = [] }: CandlesChartProps) {
  const timeZone = useTimeZone();
  const now = useNow();
  const { container, chart } = useThemedChart(timeZone, addCandleSeries);
  const times = candles.map((c) => Date.parse(c.time));
  const shading = outageShading(times, INTERVAL_MS[interval], outages, now);
  // The same times as the candles, always: a shade series missing a candle's time breaks the drawing.
  const shadeKey = JSON.stringify(shading);

  useEffect(() => {
    chart.current?.series.candles.setData(
      candles.map((c) => ({ time: toSeconds(c.time), open: c.open, high: c.high, low: c.low, close: c.close })),
    );
  }, [candles, chart]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: redrawn when the shading changes, not every tick
  useEffect(() => {
    chart.current?.series.outages.setData(shading);
  }, [shadeKey, chart]);

  const label = `${symbol} ${interval}`;
  return (
    <ChartFigure
      canvas={container}
      canvasClassName="candles-canvas"
      canvasLabel={`${label} candlestick chart${outages.length ? ", outages shaded" : ""}`}
      summary={summarizeCandles(candles, { timeZone, cachedAsOf })}
      summaryTestId="candles-summary"
      tableName={`${label} candles`}
      table={() => <CandlesTable candles={candles} label={label} timeZone={timeZone} />}
    />
  );
}

const toSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000) as UTCTimestamp;

const PRICE_COLUMNS = ["open", "high", "low", "close", "volume"] as const;

function CandlesTable({ candles, label, timeZone }: { candles: Candle[]; label: string; timeZone: string }) {
  return (
    <ScrollRegion label={`${label} candles, scrollable`}>
      <table className="data-table" data-testid="candles-table">
        <caption>{label} candles, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            {PRICE_COLUMNS.map((column) => (
              <th key={column} scope="col" className="num">
                {column[0]?.toUpperCase()}
                {column.slice(1)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {[...candles].reverse().map((c) => (
            <tr key={c.time}>
              <th scope="row">{formatDateTime(c.time, timeZone)}</th>
              {PRICE_COLUMNS.map((column) => (
                <td key={column} className="num">
                  {formatPrice(c[column])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
