import { connectionsTo, processTree, rssKb } from "../harness/proc";
import { CONNECTION_SAMPLE_MS, HEAP_SAMPLE_MS, RSS_SAMPLE_MS } from "./settings";

/**
 * What the soak samples from outside the app while it runs: connections to QuestDB from the
 * kernel's socket table, memory from /proc/<pid>/status, and the V8 heap from /api/metrics.
 */

export interface Sample {
  /** Seconds since the chaos started. */
  t: number;
  kb: number;
}

export interface Samples {
  connectionSamples: number;
  maxEstablished: number;
  maxAnyState: number;
  /** Seconds since the chaos started when `maxEstablished` was first seen. */
  maxEstablishedAt: number;
  /** The most ESTABLISHED connections seen in each second of the run. */
  connPerSecond: number[];
  rssStartKb: number | null;
  rssPeakKb: number;
  rssSeries: Sample[];
  heapSeries: Sample[];
}

/** Starts the samplers; `stop` clears their timers. */
export function startSamplers(opts: { appPid: number; appUrl: string; pgPort: number; chaosStart: number }): {
  samples: Samples;
  stop: () => void;
} {
  const { appPid, chaosStart } = opts;
  const sinceStartS = () => (Date.now() - chaosStart) / 1000;
  const rssStartKb = rssKb(appPid);
  const samples: Samples = {
    connectionSamples: 0,
    maxEstablished: 0,
    maxAnyState: 0,
    maxEstablishedAt: 0,
    connPerSecond: [],
    rssStartKb,
    rssPeakKb: rssStartKb ?? 0,
    rssSeries: [],
    heapSeries: [],
  };
  let pids = processTree(appPid);
  let heapSampling = false;
  const timers = [
    setInterval(() => {
      const count = connectionsTo(opts.pgPort, pids);
      samples.connectionSamples++;
      if (count.established > samples.maxEstablished) {
        samples.maxEstablished = count.established;
        samples.maxEstablishedAt = sinceStartS();
      }
      samples.maxAnyState = Math.max(samples.maxAnyState, count.any);
      const second = Math.floor(sinceStartS());
      samples.connPerSecond[second] = Math.max(samples.connPerSecond[second] ?? 0, count.established);
    }, CONNECTION_SAMPLE_MS),
    setInterval(() => {
      const kb = rssKb(appPid);
      if (kb === null) return;
      samples.rssSeries.push({ t: sinceStartS(), kb });
      samples.rssPeakKb = Math.max(samples.rssPeakKb, kb);
    }, RSS_SAMPLE_MS),
    setInterval(() => (pids = processTree(appPid)), 5_000),
    setInterval(() => {
      if (heapSampling) return;
      heapSampling = true;
      void heapUsedKb(opts.appUrl)
        .then((kb) => {
          if (kb !== null) samples.heapSeries.push({ t: sinceStartS(), kb });
        })
        .catch(() => undefined)
        .finally(() => (heapSampling = false));
    }, HEAP_SAMPLE_MS),
  ];
  return {
    samples,
    stop: () => {
      for (const timer of timers) clearInterval(timer);
    },
  };
}

/** The app's V8 heap in use, from its Prometheus metrics; null when the line is missing. */
async function heapUsedKb(appUrl: string): Promise<number | null> {
  const res = await fetch(`${appUrl}/api/metrics`, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  const match = /^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+?\d+)?)$/m.exec(text);
  return match ? Number(match[1]) / 1024 : null;
}
