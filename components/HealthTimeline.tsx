"use client";

import {
  ColorType,
  HistogramSeries,
  LineSeries,
  createChart,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
} from "lightweight-charts";
import { useEffect, useRef } from "react";
import type { RouterOutputs } from "@/server/root";
import { formatClock } from "./time";

type Timeline = RouterOutputs["health"]["timeline"];
type BreakerState = Timeline["breaker"][number]["state"];

const BAND_COLOR: Record<BreakerState, string> = {
  closed: "rgba(46,160,67,0.35)",
  "half-open": "rgba(210,153,34,0.6)",
  open: "rgba(248,81,73,0.6)",
};
const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000) as UTCTimestamp;

/**
 * The breaker's state in each interval of the window, as coloured bars (bands) under the latency
 * lines — a band at every time the lines have a point too: lightweight-charts asks every series
 * for a bar at each time on the shared scale, and a histogram without one throws ("Value is null").
 */
export function breakerBands(timeline: Timeline): Array<{ time: UTCTimestamp; value: number; color: string }> {
  const bucket = timeline.bucketMs;
  const from = Date.parse(timeline.from);
  const to = Date.parse(timeline.to);
  const times = new Set<number>();
  for (let t = Math.floor(from / bucket) * bucket; t <= to; t += bucket) times.add(Math.floor(t / 1000) * 1000);
  for (const point of timeline.latency) times.add(seconds(point.at) * 1000);
  const bands = [];
  let change = 0;
  for (const t of [...times].sort((a, b) => a - b)) {
    while (change + 1 < timeline.breaker.length && Date.parse(timeline.breaker[change + 1]!.at) <= t) change++;
    const state = timeline.breaker[change]?.state ?? "closed";
    bands.push({ time: (t / 1000) as UTCTimestamp, value: 1, color: BAND_COLOR[state] });
  }
  return bands;
}

/** The last 15 minutes at a glance: breaker state as bands, QuestDB query latency p50/p95, outages with their cause. */
export function HealthTimeline({ timeline }: { timeline: Timeline | undefined }) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const series = useRef<{ bands: ISeriesApi<"Histogram">; p50: ISeriesApi<"Line">; p95: ISeriesApi<"Line"> } | null>(
    null,
  );

  useEffect(() => {
    if (!container.current) return;
    const instance = createChart(container.current, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: "transparent" }, textColor: "#c9d1d9" },
      grid: { vertLines: { visible: false }, horzLines: { color: "#21262d" } },
      timeScale: { timeVisible: true, secondsVisible: false },
    });
    const bands = instance.addSeries(HistogramSeries, {
      priceScaleId: "bands",
      priceLineVisible: false,
      lastValueVisible: false,
    });
    instance.priceScale("bands").applyOptions({ visible: false, scaleMargins: { top: 0, bottom: 0 } });
    const p50 = instance.addSeries(LineSeries, { color: "#58a6ff", lineWidth: 2, title: "p50 ms" });
    const p95 = instance.addSeries(LineSeries, { color: "#d2a8ff", lineWidth: 1, title: "p95 ms" });
    chart.current = instance;
    series.current = { bands, p50, p95 };
    return () => {
      instance.remove();
      chart.current = null;
      series.current = null;
    };
  }, []);

  useEffect(() => {
    if (!timeline || !series.current) return;
    // Lines first emptied, then bands, then lines: at every step each line's times are among the
    // bands' (the next answer may come from another instance, with another window).
    series.current.p50.setData([]);
    series.current.p95.setData([]);
    series.current.bands.setData(breakerBands(timeline));
    series.current.p50.setData(timeline.latency.map((l) => ({ time: seconds(l.at), value: l.p50Ms })));
    series.current.p95.setData(timeline.latency.map((l) => ({ time: seconds(l.at), value: l.p95Ms })));
    chart.current?.timeScale().fitContent();
  }, [timeline]);

  return (
    <figure className="chart timeline" data-testid="health-timeline">
      <div
        ref={container}
        className="chart-canvas timeline-canvas"
        role="img"
        aria-label="Breaker state and QuestDB query latency, last 15 minutes"
      />
      <figcaption>
        {timeline && timeline.outages.length > 0 ? (
          <ul className="timeline-outages">
            {timeline.outages.map((o) => (
              <li key={o.from} data-testid="health-timeline-outage" suppressHydrationWarning>
                Outage {formatClock(o.from)}–{o.to ? formatClock(o.to) : "now"}: {o.cause}
              </li>
            ))}
          </ul>
        ) : (
          "No outage in the last 15 minutes."
        )}
      </figcaption>
    </figure>
  );
}
