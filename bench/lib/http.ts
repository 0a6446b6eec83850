import http from "node:http";

/**
 * A tiny HTTP GET client for the benchmarks: node:http with one keep-alive agent (no fetch/undici
 * layer in the measured time), a hard time limit per request, and the round-trip time measured
 * with performance.now() from just before the request to the end of the body.
 */

const agent = new http.Agent({ keepAlive: true, maxSockets: 512, keepAliveMsecs: 1_000 });

export interface GetResult {
  /** HTTP status, or 0 when the request failed (connection error) or hit its time limit. */
  status: number;
  body: string;
  /** Milliseconds from just before the request to the end of the answer (or the failure). */
  ms: number;
  /** performance.now() at the end of the answer (or the failure). */
  endedAt: number;
  /** Set when the request failed or was abandoned at its time limit. */
  error?: string;
  timedOut?: boolean;
}

/** `via`: the agent to send it on (a scenario with its own pool of sockets passes its own). */
export function get(url: string, timeoutMs = 35_000, via: http.Agent = agent): Promise<GetResult> {
  const started = performance.now();
  return new Promise<GetResult>((resolve) => {
    let settled = false;
    const finish = (result: Omit<GetResult, "ms" | "endedAt">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const endedAt = performance.now();
      resolve({ ...result, ms: endedAt - started, endedAt });
    };
    const req = http.get(url, { agent: via }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (error) => finish({ status: 0, body: "", error: error.message || error.name }));
    });
    req.on("error", (error) => finish({ status: 0, body: "", error: error.message || error.name }));
    const timer = setTimeout(() => {
      finish({ status: 0, body: "", error: `no answer within ${timeoutMs} ms`, timedOut: true });
      req.destroy();
    }, timeoutMs);
  });
}

export async function getJson<T>(url: string, timeoutMs?: number): Promise<{ result: GetResult; json: T | undefined }> {
  const result = await get(url, timeoutMs);
  let json: T | undefined;
  try {
    json = result.body ? (JSON.parse(result.body) as T) : undefined;
  } catch {
    json = undefined;
  }
  return { result, json };
}

export function closeAgent(): void {
  agent.destroy();
}
