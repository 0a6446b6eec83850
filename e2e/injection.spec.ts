import type { APIRequestContext } from "@playwright/test";
import { Client } from "pg";
import { CANDLE_INTERVALS, type CandleInterval } from "../contract/market";
import { activeSessionsQuery, candlesQuery } from "../server/questdb/queries";
import { expect, test, type Stack } from "./fixtures";

/**
 * SQL injection: symbols and intervals reach SQL only as bound parameters or through a fixed map.
 * Payloads go in as symbol, interval, limit, extra fields (names and values), procedure paths and
 * batch paths; every answer is a 4xx naming the problem (or an ordinary answer where the text is
 * harmless), and afterwards QuestDB has the same tables with the same row counts. No live feed runs
 * in e2e, so the counts are stable.
 */

const PAYLOADS = [
  "BTC-USD'; DROP TABLE trades; --",
  "BTC-USD' OR '1'='1",
  "'; DROP TABLE session_events; --",
  'BTC-USD"; DROP TABLE trades; --',
  "BTC-USD'); TRUNCATE TABLE trades; --",
  "BTC-USD' UNION SELECT * FROM session_events --",
  "1m; DROP TABLE trades; --",
  "1m ALIGN TO CALENDAR; DROP TABLE trades",
  "1; DROP TABLE trades",
  "10 OFFSET 0; DELETE FROM trades",
  "$1",
  "/* */ DROP TABLE trades",
  "\\'; DROP TABLE trades; --",
  "BTC-USD\u0000'; DROP TABLE trades; --",
];

interface Snapshot {
  tables: string[];
  counts: Record<string, number>;
}

async function snapshot(pgUrl: string): Promise<Snapshot> {
  const client = new Client({ connectionString: pgUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const tables = (
      await client.query<{ table_name: string }>("SELECT table_name FROM tables() ORDER BY table_name")
    ).rows.map((row) => row.table_name);
    const counts: Record<string, number> = {};
    for (const table of tables) {
      const result = await client.query<{ n: string | number }>(
        `SELECT count() AS n FROM "${table.replace(/"/g, '""')}"`,
      );
      counts[table] = Number(result.rows[0]?.n);
    }
    return { tables, counts };
  } finally {
    await client.end();
  }
}

interface Answer {
  status: number;
  message: string;
  body: unknown;
}

async function get(request: APIRequestContext, url: string): Promise<Answer> {
  const res = await request.get(url, { timeout: 10_000, failOnStatusCode: false, maxRedirects: 0 });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  const error = (Array.isArray(body) ? body.find((item: { error?: unknown }) => item?.error) : body) as {
    error?: { message?: string };
  } | null;
  return { status: res.status(), message: error?.error?.message ?? res.statusText(), body };
}

const trpcUrl = (stack: Stack, path: string, input?: unknown, query = "") =>
  `${stack.app.url}/api/trpc/${path}?${query}${input === undefined ? "" : `${query ? "&" : ""}input=${encodeURIComponent(JSON.stringify(input))}`}`;

test("injection payloads as symbol, interval, limit, extra fields and paths are refused, and QuestDB's tables and row counts are unchanged", async ({
  request,
  stack,
}) => {
  const before = await snapshot(stack.questdb.pgUrl);
  expect(before.tables).toEqual(expect.arrayContaining(["trades", "session_events"]));
  expect(before.counts.trades).toBeGreaterThan(50_000);
  expect(before.counts.session_events).toBeGreaterThan(0);

  const valid = { symbol: "BTC-USD", interval: "1m" };
  let answered = 0;
  for (const payload of PAYLOADS) {
    const vectors: { name: string; url: string; status: number; message: RegExp }[] = [
      {
        name: "symbol",
        url: trpcUrl(stack, "market.candles", { ...valid, symbol: payload }),
        status: 400,
        message: /^Invalid input: symbol: /,
      },
      {
        name: "interval",
        url: trpcUrl(stack, "market.candles", { ...valid, interval: payload }),
        status: 400,
        message: /^Invalid input: interval: Invalid option/,
      },
      {
        name: "candles limit",
        url: trpcUrl(stack, "market.candles", { ...valid, limit: payload }),
        status: 400,
        message: /^Invalid input: limit: /,
      },
      {
        name: "sessions limit",
        url: trpcUrl(stack, "sessions.active", { limit: payload }),
        status: 400,
        message: /^Invalid input: limit: /,
      },
      {
        name: "extra field value",
        url: trpcUrl(stack, "sessions.active", { limit: 5, where: payload }),
        status: 400,
        message: /Unrecognized key: "where"/,
      },
      {
        name: "extra field name",
        url: trpcUrl(stack, "market.candles", { ...valid, [payload]: 1 }),
        status: 400,
        message: /^Invalid input: input: Unrecognized key: /,
      },
      {
        name: "health.status field",
        url: trpcUrl(stack, "health.status", { [payload]: payload }),
        status: 400,
        message: /Unrecognized key: /,
      },
      {
        name: "procedure path",
        url: `${stack.app.url}/api/trpc/${encodeURIComponent(payload)}`,
        status: 404,
        message: /^No procedure found on path /,
      },
      {
        name: "batch path",
        url: trpcUrl(stack, `sessions.active,${encodeURIComponent(payload)}`, { 0: { limit: 3 } }, "batch=1"),
        status: 207,
        message: /^No procedure found on path /,
      },
      {
        name: "batch input",
        url: trpcUrl(
          stack,
          "market.candles,sessions.active",
          { 0: { ...valid, symbol: payload }, 1: { limit: payload } },
          "batch=1",
        ),
        status: 400,
        message: /^Invalid input: symbol: /,
      },
    ];
    for (const vector of vectors) {
      const answer = await get(request, vector.url);
      const label = `${vector.name} = ${JSON.stringify(payload)}`;
      expect.soft(answer.status, `${label}: status (${answer.message})`).toBe(vector.status);
      expect.soft(answer.message, `${label}: message`).toMatch(vector.message);
      answered++;
    }
  }
  expect(answered).toBe(PAYLOADS.length * 10);

  // A well-formed symbol QuestDB has no trades for is refused before any candles query (market.symbols).
  const unknown = await get(
    request,
    trpcUrl(stack, "market.candles", { symbol: "DROP-TABLE", interval: "1m", limit: 5 }),
  );
  expect(unknown.status).toBe(400);
  expect(unknown.message).toContain('Invalid input: symbol: "DROP-TABLE" is not a symbol QuestDB has trades for');

  const after = await snapshot(stack.questdb.pgUrl);
  expect(after).toEqual(before);

  // And the app still answers from those tables.
  const sessions = await get(request, trpcUrl(stack, "sessions.active"));
  expect((sessions.body as { result: { data: { status: string; data: unknown[] } } }).result.data.status).toBe("ok");
  const candles = await get(request, trpcUrl(stack, "market.candles", { ...valid, limit: 5 }));
  expect((candles.body as { result: { data: { status: string; data: unknown[] } } }).result.data.data).toHaveLength(5);
});

test("below validation, the SQL is fixed text: a payload is only ever a bound parameter, and an interval outside the fixed map builds no SQL", async ({
  stack,
}) => {
  const before = await snapshot(stack.questdb.pgUrl);
  const fixedSql = new Set<string>();
  for (const interval of CANDLE_INTERVALS) {
    const query = candlesQuery("BTC-USD", interval, 10);
    fixedSql.add(query.sql);
    expect(query.sql).toMatch(new RegExp(`SAMPLE BY ${interval} ALIGN TO CALENDAR`));
  }

  const client = new Client({ connectionString: stack.questdb.pgUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    for (const payload of PAYLOADS) {
      for (const interval of CANDLE_INTERVALS) {
        // As if validation were bypassed: the payload is a parameter, the SQL text is one of three.
        const query = candlesQuery(payload, interval, 10);
        expect(fixedSql.has(query.sql), `SQL for ${JSON.stringify(payload)}`).toBe(true);
        expect(query.params).toEqual([payload, 10]);
        const result = await client.query(query.sql, [...query.params]);
        expect(result.rows, `rows for symbol ${JSON.stringify(payload)}`).toEqual([]);
      }
      // The interval never reaches SQL as text: outside the map there is no query to run.
      expect(
        () => candlesQuery("BTC-USD", payload as CandleInterval, 10),
        `interval ${JSON.stringify(payload)}`,
      ).toThrow();
      // A limit that is not a number fails as a parameter, it is never spliced in.
      const sessions = activeSessionsQuery(payload as unknown as number);
      expect(sessions.sql).toBe(activeSessionsQuery(1).sql);
      await expect(client.query(sessions.sql, [...sessions.params])).rejects.toThrow();
    }
  } finally {
    await client.end();
  }
  expect(await snapshot(stack.questdb.pgUrl)).toEqual(before);
});
