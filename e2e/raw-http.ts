import http from "node:http";

/**
 * One HTTP request exactly as written: the path's bytes untouched (a broken % escape stays broken),
 * any Host header, and the local address to send from (127.0.0.2 is another client on loopback).
 * Playwright's request context normalises URLs and sets Host itself, which these tests must not.
 */
export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function rawGet(
  appUrl: string,
  path: string,
  opts: { headers?: Record<string, string>; localAddress?: string } = {},
): Promise<RawAnswer> {
  const url = new URL(appUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: "GET",
        headers: opts.headers,
        localAddress: opts.localAddress,
        agent: false,
        timeout: 15_000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/** A Cookie header carrying the given cookies. */
export function cookieHeader(cookies: ReadonlyArray<{ name: string; value: string }>): string {
  return cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join("; ");
}
