"use client";

import {
  type ChartOptions,
  ColorType,
  createChart,
  type DeepPartial,
  type IChartApi,
  TickMarkType,
  type UTCTimestamp,
} from "lightweight-charts";
import { type RefObject, useEffect, useRef } from "react";
import { formatClock, formatTick } from "./time";

/**
 * A lightweight-charts chart in the page's look and time zone, created on mount and removed on
 * unmount. The library's attribution logo is off: it put a focusable link inside each chart
 * (nested in role=img, the same id twice); the page's footer carries the attribution instead.
 */

const TICK_KIND: Record<TickMarkType, Parameters<typeof formatTick>[2]> = {
  [TickMarkType.Year]: "year",
  [TickMarkType.Month]: "month",
  [TickMarkType.DayOfMonth]: "day",
  [TickMarkType.Time]: "time",
  [TickMarkType.TimeWithSeconds]: "seconds",
};

/** The options that follow the time zone: the crosshair's time and the axis's tick marks. */
export function zonedTimeOptions(timeZone: string): DeepPartial<ChartOptions> {
  const ms = (time: unknown) => (time as UTCTimestamp) * 1000;
  return {
    localization: { timeFormatter: (time: unknown) => formatClock(ms(time), timeZone) },
    timeScale: {
      timeVisible: true,
      secondsVisible: false,
      tickMarkFormatter: (time: unknown, type: TickMarkType) => formatTick(ms(time), timeZone, TICK_KIND[type]),
    },
  };
}

export function useThemedChart<TSeries>(
  timeZone: string,
  addSeries: (chart: IChartApi) => TSeries,
  options: DeepPartial<ChartOptions> = {},
): { container: RefObject<HTMLDivElement | null>; chart: RefObject<{ api: IChartApi; series: TSeries } | null> } {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<{ api: IChartApi; series: TSeries } | null>(null);
  // Created once: the series and options the caller passes on the first render are the chart's.
  const setup = useRef({ addSeries, options });
  useEffect(() => {
    if (!container.current) return;
    const api = createChart(container.current, {
      ...setup.current.options,
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: "transparent" },
        textColor: "#c9d1d9",
        attributionLogo: false,
      },
      grid: { vertLines: { color: "#21262d" }, horzLines: { color: "#21262d" }, ...setup.current.options.grid },
    });
    chart.current = { api, series: setup.current.addSeries(api) };
    return () => {
      api.remove();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    chart.current?.api.applyOptions(zonedTimeOptions(timeZone));
  }, [timeZone]);
  return { container, chart };
}
