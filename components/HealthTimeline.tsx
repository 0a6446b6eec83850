"use client";

import { HistogramSeries, type IChartApi, LineSeries, type UTCTimestamp } from "lightweight-charts";
import { useEffect } from "react";
import type { RouterOutputs } from "@/server/root";
import { ChartFigure } from "./ChartFigure";
import { ScrollRegion } from "./ScrollRegion";
import { useTimeZone } from "./clock";
import { formatClock } from "./time";
import { useThemedChart } from "./use-themed-chart";

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

function addTimelineSeries(chart: IChartApi) {
  const bands = chart.addSeries(HistogramSeries, {
    priceScaleId: "bands",
    priceLineVisible: false,
    lastValueVisible: false,
  });
  chart.priceScale("bands").applyOptions({ visible: false, scaleMargins: { top: 0, bottom: 0 } });
  const p50 = chart.addSeries(LineSeries, { color: "#58a6ff", lineWidth: 2, title: "p50 ms" });
  const p95 = chart.addSeries(LineSeries, { color: "#d2a8ff", lineWidth: 1, title: "p95 ms" });
  return { bands, p50, p95 };
}

/** The breaker's state at `at`: the last change at or before it. */
function breakerAt(timeline: Timeline, at: number): BreakerState {
  let state: BreakerState = timeline.breaker[0]?.state ?? "closed";
  for (const change of timeline.breaker) if (Date.parse(change.at) <= at) state = change.state;
  return state;
}

/** The timeline in a sentence: the breaker now and the latest latency. */
export function summarizeTimeline(timeline: Timeline): string {
  const states = new Set(timeline.breaker.map((b) => b.state));
  const breaker =
    states.size <= 1 ? `Breaker ${timeline.breaker[0]?.state ?? "closed"} throughout` : "Breaker changed state";
  const latest = timeline.latency.at(-1);
  const latency = latest ? `; latest query latency p50 ${latest.p50Ms} ms, p95 ${latest.p95Ms} ms` : "; no queries";
  return `${breaker}${latency}.`;
}

/** The last 15 minutes at a glance: breaker state as bands, QuestDB query latency p50/p95, outages with their cause. */
export function HealthTimeline({ timeline }: { timeline: Timeline | undefined }) {
  const timeZone = useTimeZone();
  const { container, chart } = useThemedChart(timeZone, addTimelineSeries, { grid: { vertLines: { visible: false } } });

  useEffect(() => {
    const drawn = chart.current;
    if (!timeline || !drawn) return;
    // Lines first emptied, then bands, then lines: at every step each line's times are among the
    // bands' (the next answer may come from another instance, with another window).
    drawn.series.p50.setData([]);
    drawn.series.p95.setData([]);
    drawn.series.bands.setData(breakerBands(timeline));
    drawn.series.p50.setData(timeline.latency.map((l) => ({ time: seconds(l.at), value: l.p50Ms })));
    drawn.series.p95.setData(timeline.latency.map((l) => ({ time: seconds(l.at), value: l.p95Ms })));
    drawn.api.timeScale().fitContent();
  }, [timeline, chart]);

  return (
    <ChartFigure
      canvas={container}
      canvasClassName="timeline-canvas"
      canvasLabel="Breaker state and QuestDB query latency, last 15 minutes"
      className="chart timeline"
      testId="health-timeline"
      summary={<TimelineWords timeline={timeline} timeZone={timeZone} />}
      tableName="breaker states and latencies"
      table={() => (timeline ? <TimelineTable timeline={timeline} timeZone={timeZone} /> : null)}
    />
  );
}

function TimelineWords({ timeline, timeZone }: { timeline: Timeline | undefined; timeZone: string }) {
  if (!timeline) return <>Loading the last 15 minutes…</>;
  return (
    <>
      {timeline.outages.length > 0 ? (
        <ul className="timeline-outages">
          {timeline.outages.map((o) => (
            <li key={o.from} data-testid="health-timeline-outage">
              Outage {formatClock(o.from, timeZone)}–{o.to ? formatClock(o.to, timeZone) : "now"}: {o.cause}
            </li>
          ))}
        </ul>
      ) : (
        "No outage in the last 15 minutes. "
      )}
      {summarizeTimeline(timeline)}
    </>
  );
}

function TimelineTable({ timeline, timeZone }: { timeline: Timeline; timeZone: string }) {
  return (
    <ScrollRegion label="Breaker states and latencies, scrollable">
      <table className="data-table" data-testid="timeline-table">
        <caption>Breaker state and query latency per interval, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Interval from</th>
            <th scope="col">Breaker</th>
            <th scope="col" className="num">
              Queries
            </th>
            <th scope="col" className="num">
              p50 ms
            </th>
            <th scope="col" className="num">
              p95 ms
            </th>
          </tr>
        </thead>
        <tbody>
          {[...timeline.latency].reverse().map((l) => (
            <tr key={l.at}>
              <th scope="row">{formatClock(l.at, timeZone)}</th>
              <td>{breakerAt(timeline, Date.parse(l.at))}</td>
              <td className="num">{l.count}</td>
              <td className="num">{l.p50Ms}</td>
              <td className="num">{l.p95Ms}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
