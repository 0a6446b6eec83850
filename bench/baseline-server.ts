import http from "node:http";
import pg from "pg";
import { activeSessionsQuery } from "../server/questdb/queries";

/**
 * The benchmarks' baseline: the "plain pg route" a dashboard would have without the resilient
 * layer. node:http and one `pg.Pool` with pg's defaults (max 10, no connect timeout, no query
 * timeout, no retry, no breaker, no cache). GET /sessions?limit=N runs the same SQL as
 * `sessions.active` and answers 200 with the rows or 500 with the error.
 *
 * Two deliberate differences from a naive route, both so that the baseline can be measured at all:
 * - a pool 'error' listener: without it pg's documented behaviour is a crash of the process when
 *   QuestDB is killed under an idle connection (we want the route's error, not a dead server);
 * - the SQL is sent on one line: the same statement, but QuestDB's query log can then tell the
 *   baseline's queries from the app's in the cross-check.
 *
 * GET /stats answers the number of queries it sent; GET /health answers without touching QuestDB.
 * Run as a child process by bench/run.ts (BASELINE_PG_URL, BASELINE_PORT).
 */

const pgUrl = process.env.BASELINE_PG_URL;
const port = Number(process.env.BASELINE_PORT);
if (!pgUrl || !Number.isInteger(port)) {
  console.error("baseline-server: set BASELINE_PG_URL and BASELINE_PORT");
  process.exit(2);
}

const pool = new pg.Pool({ connectionString: pgUrl });
let idleErrors = 0;
pool.on("error", () => {
  idleErrors++;
});

let queries = 0;
let failures = 0;

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname === "/health") return send(res, 200, { ok: true });
  if (url.pathname === "/stats") return send(res, 200, { queries, failures, idleErrors });
  if (url.pathname !== "/sessions") return send(res, 404, { error: "not found" });
  const limit = Math.min(500, Math.max(1, Number(url.searchParams.get("limit") ?? 100) || 100));
  const { sql, params } = activeSessionsQuery(limit);
  queries++;
  pool.query(sql.replace(/\s+/g, " ").trim(), params as unknown[]).then(
    (result) => send(res, 200, { rows: result.rows }),
    (error: unknown) => {
      failures++;
      const message = error instanceof Error ? error.message || error.name : String(error);
      send(res, 500, { error: message });
    },
  );
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => console.log(`baseline-server listening on ${port}`));

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    server.close();
    void pool.end().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 1_000).unref();
  });
}
