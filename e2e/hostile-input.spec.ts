import type { APIRequestContext } from "@playwright/test";
import { Rng } from "../harness/prng";
import { expect, test, type Stack } from "./fixtures";

// Hundreds of requests from one address: the per-client limit has its own spec (rate-limit.spec.ts).
test.use({ appEnv: { RATE_LIMIT_PER_MINUTE: "0" } });

/**
 * Malformed input against the production app over HTTP: every answer is a 4xx whose message names
 * the problem (for zod failures: "Invalid input: <field>: …"), never a 500, never a hang. Ends with
 * a seeded fuzz loop. The fixture fails a test whose app died or logged an unhandled error; each
 * test also checks that the app logged no 5xx and no unexpected tRPC error.
 */

/** A request that takes longer than this is a hang. */
const HANG_MS = 10_000;

interface Answer {
  status: number;
  /** The tRPC error message, or the HTTP status text for answers not made by tRPC (431, Next's 405). */
  message: string;
  body: unknown;
  ms: number;
}

interface Case {
  name: string;
  /** Procedure path(s) after /api/trpc/. */
  path: string;
  /** Sent as ?input=<JSON>. */
  input?: unknown;
  /** Sent as ?input=<raw> (already URL-encoded or deliberately not). */
  rawInput?: string;
  /** Extra query string, e.g. "batch=1". */
  query?: string;
  method?: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  headers?: Record<string, string>;
  body?: string;
  status: number;
  message: RegExp;
  /**
   * An oversized request may also be answered by the server closing the connection: Node writes its
   * 431 and destroys the socket with the rest of the request unread, so the kernel sends a reset, and
   * a client still writing its megabyte can see the reset before it reads the 431 (seen on CI).
   */
  mayReset?: boolean;
}

/** What `send` answers when the server reset the connection instead of answering. */
const RESET = 0;

function urlOf(stack: Stack, c: Pick<Case, "path" | "input" | "rawInput" | "query">): string {
  const params: string[] = [];
  if (c.query) params.push(c.query);
  if (c.input !== undefined) params.push(`input=${encodeURIComponent(JSON.stringify(c.input))}`);
  if (c.rawInput !== undefined) params.push(`input=${c.rawInput}`);
  return `${stack.app.url}/api/trpc/${c.path}${params.length ? `?${params.join("&")}` : ""}`;
}

async function send(
  request: APIRequestContext,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; mayReset?: boolean } = {},
): Promise<Answer> {
  const started = performance.now();
  let res: Awaited<ReturnType<APIRequestContext["fetch"]>>;
  try {
    res = await request.fetch(url, {
      method: init.method ?? "GET",
      headers: init.headers,
      data: init.body,
      timeout: HANG_MS,
      maxRedirects: 0,
      failOnStatusCode: false,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!init.mayReset || !/ECONNRESET|EPIPE|socket hang up/.test(message)) throw error;
    return {
      status: RESET,
      message: `connection reset by the app: ${message.split("\n")[0]}`,
      body: null,
      ms: performance.now() - started,
    };
  }
  const text = await res.text();
  const ms = performance.now() - started;
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  const error = (Array.isArray(body) ? body.find((item: { error?: unknown }) => item?.error) : body) as {
    error?: { message?: unknown };
  } | null;
  const message = typeof error?.error?.message === "string" ? error.error.message : res.statusText();
  return { status: res.status(), message, body, ms };
}

async function runCases(request: APIRequestContext, stack: Stack, cases: Case[]): Promise<void> {
  for (const c of cases) {
    await test.step(c.name, async () => {
      const answer = await send(request, urlOf(stack, c), {
        method: c.method,
        headers: c.headers,
        body: c.body,
        mayReset: c.mayReset,
      });
      if (answer.status === RESET) {
        // Refused without an answer: fine for an oversized request, as long as the app lives on.
        const next = await send(request, urlOf(stack, { path: "health.status" }));
        expect.soft(next.status, `${c.name}: the app answers the next request after resetting this one`).toBe(200);
        return;
      }
      expect.soft(answer.status, `${c.name}: HTTP status (${answer.message})`).toBe(c.status);
      expect.soft(answer.message, `${c.name}: message`).toMatch(c.message);
      expect.soft(answer.message.trim(), `${c.name}: message not empty`).not.toBe("");
    });
  }
}

/** The app's own record: no request it served ended in a 5xx or an unexpected tRPC error. */
function expectNoServerErrors(stack: Stack): void {
  const lines = stack.app
    .log()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { event?: string; status?: number });
  expect(
    lines.filter((l) => l.event === "http.request" && (l.status ?? 0) >= 500),
    "5xx answers in the app log",
  ).toEqual([]);
  expect(
    lines.filter((l) => l.event === "trpc.unexpected_error"),
    "unexpected tRPC errors in the app log",
  ).toEqual([]);
}

const KB10 = "A".repeat(10_000);
const MB1 = "A".repeat(1_000_000);
/** Over Node's 16 KB header limit, yet one TCP segment on loopback: read whole, so never reset. */
const KB40 = "A".repeat(40_000);
const deepArray = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
const deepObject = (depth: number): unknown => (depth === 0 ? {} : { a: deepObject(depth - 1) });

const SESSIONS = "sessions.active";
const CANDLES = "market.candles";
const candles = (extra: Record<string, unknown>) => ({ symbol: "BTC-USD", interval: "1m", ...extra });

/** A whole input of the wrong kind (not an object): a 400 whose message says what was received. */
function wrongInputCase(path: string, name: string, input: unknown, says: string): Case {
  return { name, path, input, status: 400, message: new RegExp(`^Invalid input: input: .*${says}`) };
}

/** Input that is not JSON at all. */
const notJsonCase = (path: string, rawInput = "abc"): Case => ({
  name: "input is not JSON",
  path,
  rawInput,
  status: 400,
  message: /is not valid JSON/,
});

test("sessions.active: wrong types, bad numbers, big strings, extra fields and non-JSON input are 400s naming the field", async ({
  request,
  stack,
}) => {
  const limitCases: [string, unknown, RegExp][] = [
    ["limit as a string", "10", /^Invalid input: limit: .*expected number, received string/],
    ["negative limit", -1, /^Invalid input: limit: Too small: expected number to be >=1/],
    ["zero limit", 0, /^Invalid input: limit: Too small/],
    ["fractional limit", 2.5, /^Invalid input: limit: .*expected int, received number/],
    ["limit above 500", 501, /^Invalid input: limit: Too big: expected number to be <=500/],
    ["huge limit", 1e21, /^Invalid input: limit: Too big/],
    ["limit beyond a safe integer", Number.MAX_SAFE_INTEGER + 2, /^Invalid input: limit: Too big/],
    ["tiny fraction", 1e-300, /^Invalid input: limit: /],
    ["null limit", null, /^Invalid input: limit: .*received null/],
    ["boolean limit", true, /^Invalid input: limit: .*received boolean/],
    ["array limit", [10], /^Invalid input: limit: .*received array/],
    ["object limit (operator injection)", { $gt: 0 }, /^Invalid input: limit: .*received object/],
    ["10 KB string limit", KB10, /^Invalid input: limit: .*received string/],
    ["nested objects (depth 50)", deepObject(50), /^Invalid input: limit: .*received object/],
  ];
  const cases: Case[] = [
    ...limitCases.map(
      ([name, limit, message]): Case => ({ name, path: SESSIONS, input: { limit }, status: 400, message }),
    ),
    {
      name: "limit = Infinity (1e400)",
      path: SESSIONS,
      rawInput: encodeURIComponent('{"limit":1e400}'),
      status: 400,
      message: /^Invalid input: limit: .*Infinity/,
    },
    {
      name: "limit = -Infinity",
      path: SESSIONS,
      rawInput: encodeURIComponent('{"limit":-1e400}'),
      status: 400,
      message: /^Invalid input: limit: /,
    },
    {
      name: "nested arrays (depth 2000)",
      path: SESSIONS,
      rawInput: encodeURIComponent(`{"limit":${deepArray(2000)}}`),
      status: 400,
      message: /^Invalid input: limit: .*received array/,
    },
    {
      name: "extra field",
      path: SESSIONS,
      input: { limit: 5, foo: 1 },
      status: 400,
      message: /^Invalid input: input: Unrecognized key: "foo"/,
    },
    {
      name: "extra field with a unicode name",
      path: SESSIONS,
      input: { límite: 5 },
      status: 400,
      message: /Unrecognized key: "límite"/,
    },
    {
      name: "extra field with control characters",
      path: SESSIONS,
      input: { "\u0000\u001b[31m": 5 },
      status: 400,
      message: /Unrecognized key: "\u0000\u001b\[31m"/,
    },
    {
      name: "__proto__ field",
      path: SESSIONS,
      rawInput: encodeURIComponent('{"__proto__":{"limit":5}}'),
      status: 400,
      message: /Unrecognized key: "__proto__"/,
    },
    wrongInputCase(SESSIONS, "input is an array", [1], "expected object, received array"),
    wrongInputCase(SESSIONS, "input is a number", 5, "expected object, received number"),
    wrongInputCase(SESSIONS, "input is a string", "limit=5", "expected object, received string"),
    wrongInputCase(SESSIONS, "input is null", null, "received null"),
    notJsonCase(SESSIONS),
    {
      name: "input is truncated JSON",
      path: SESSIONS,
      rawInput: encodeURIComponent('{"limit":'),
      status: 400,
      message: /JSON/,
    },
    {
      name: "input with a bad percent-escape",
      path: SESSIONS,
      rawInput: "%ZZ",
      status: 400,
      message: /is not valid JSON/,
    },
    {
      name: "input with control characters, not JSON",
      path: SESSIONS,
      rawInput: encodeURIComponent("\u0000\u0007\u001b"),
      status: 400,
      message: /JSON/,
    },
  ];
  await runCases(request, stack, cases);

  await test.step("valid inputs still answer ok", async () => {
    for (const input of [undefined, {}, { limit: 1 }, { limit: 500 }]) {
      const answer = await send(request, urlOf(stack, { path: SESSIONS, input }));
      expect(answer.status).toBe(200);
      expect((answer.body as { result: { data: { status: string } } }).result.data.status).toBe("ok");
    }
  });
  expectNoServerErrors(stack);
});

test("market.candles: wrong types, unicode and control characters, bad intervals and limits, extra fields are 400s naming the field", async ({
  request,
  stack,
}) => {
  const symbolFormat = /^Invalid input: symbol: a symbol like BTC-USD/;
  const badSymbols: [string, string][] = [
    ["lower case", "btc-usd"],
    ["no dash", "BTCUSD"],
    ["two dashes", "BTC-USD-X"],
    ["leading space", " BTC-USD"],
    ["trailing newline", "BTC-USD\n"],
    ["CR LF", "BTC-USD\r\n"],
    ["NUL byte", "BTC-USD\u0000"],
    ["escape sequence", "\u001b[2JBTC-USD"],
    ["accented letter", "BTC-ÜSD"],
    ["emoji", "BTC-USD😀"],
    ["full-width letters", "ＢＴＣ-USD"],
    ["zero-width space", "BTC\u200b-USD"],
    ["right-to-left override", "BTC-USD\u202e"],
    ["empty string", ""],
  ];
  const badIntervals: [string, unknown][] = [
    ["unknown interval", "2m"],
    ["upper-case interval", "1M"],
    ["interval with a space", "1m "],
    ["interval with a NUL byte", "1m\u0000"],
    ["empty interval", ""],
    ["numeric interval", 1],
    ["null interval", null],
    ["interval naming an object property", "toString"],
    ["interval naming the prototype", "__proto__"],
  ];
  const badLimits: [string, unknown][] = [
    ["zero limit", 0],
    ["negative limit", -5],
    ["fractional limit", 2.5],
    ["limit above 1000", 1001],
    ["string limit", "10"],
    ["huge limit", 1e300],
  ];
  const cases: Case[] = [
    {
      name: "no fields",
      path: CANDLES,
      input: {},
      status: 400,
      message: /^Invalid input: symbol: .*received undefined; interval: /,
    },
    {
      name: "no input at all",
      path: CANDLES,
      status: 400,
      message: /^Invalid input: input: .*expected object, received undefined/,
    },
    {
      name: "missing interval",
      path: CANDLES,
      input: { symbol: "BTC-USD" },
      status: 400,
      message: /^Invalid input: interval: /,
    },
    {
      name: "numeric symbol",
      path: CANDLES,
      input: candles({ symbol: 42 }),
      status: 400,
      message: /^Invalid input: symbol: .*expected string, received number/,
    },
    {
      name: "object symbol (operator injection)",
      path: CANDLES,
      input: candles({ symbol: { $ne: "" } }),
      status: 400,
      message: /^Invalid input: symbol: .*received object/,
    },
    {
      name: "array symbol",
      path: CANDLES,
      input: candles({ symbol: ["BTC-USD"] }),
      status: 400,
      message: /^Invalid input: symbol: .*received array/,
    },
    {
      name: "21-character symbol",
      path: CANDLES,
      input: candles({ symbol: "ABCDEFGHI-ABCDEFGHIJK" }),
      status: 400,
      message: /^Invalid input: symbol: at most 20 characters/,
    },
    {
      name: "10 KB symbol",
      path: CANDLES,
      input: candles({ symbol: KB10 }),
      status: 400,
      message: /^Invalid input: symbol: at most 20 characters/,
    },
    {
      name: "lone surrogate symbol",
      path: CANDLES,
      rawInput: encodeURIComponent('{"symbol":"\\ud800","interval":"1m"}'),
      status: 400,
      message: symbolFormat,
    },
    {
      name: "symbol with invalid UTF-8 bytes",
      path: CANDLES,
      rawInput: "%7B%22symbol%22%3A%22%FF%FE%22%2C%22interval%22%3A%221m%22%7D",
      status: 400,
      message: symbolFormat,
    },
    {
      name: "nested objects (depth 50)",
      path: CANDLES,
      input: candles({ symbol: deepObject(50) }),
      status: 400,
      message: /^Invalid input: symbol: .*received object/,
    },
    ...badSymbols.map(
      ([name, symbol]): Case => ({
        name: `symbol: ${name}`,
        path: CANDLES,
        input: candles({ symbol }),
        status: 400,
        message: symbolFormat,
      }),
    ),
    ...badIntervals.map(
      ([name, interval]): Case => ({
        name,
        path: CANDLES,
        input: candles({ interval }),
        status: 400,
        message: /^Invalid input: interval: Invalid option: expected one of "1m"\|"5m"\|"1h"/,
      }),
    ),
    ...badLimits.map(
      ([name, limit]): Case => ({
        name,
        path: CANDLES,
        input: candles({ limit }),
        status: 400,
        message: /^Invalid input: limit: /,
      }),
    ),
    {
      name: "extra field",
      path: CANDLES,
      input: candles({ where: "1=1" }),
      status: 400,
      message: /^Invalid input: input: Unrecognized key: "where"/,
    },
    {
      name: "two extra fields",
      path: CANDLES,
      input: candles({ a: 1, b: 2 }),
      status: 400,
      message: /Unrecognized keys: "a", "b"/,
    },
    {
      name: "constructor field",
      path: CANDLES,
      input: candles({ constructor: { prototype: { polluted: true } } }),
      status: 400,
      message: /Unrecognized key: "constructor"/,
    },
    {
      name: "every field wrong at once",
      path: CANDLES,
      input: { symbol: 1, interval: 2, limit: "3" },
      status: 400,
      message: /symbol: .*; interval: .*; limit: /,
    },
    notJsonCase(CANDLES, "symbol=BTC-USD"),
  ];
  await runCases(request, stack, cases);

  await test.step("valid inputs still answer ok", async () => {
    for (const input of [
      candles({}),
      candles({ interval: "5m", limit: 1 }),
      candles({ symbol: "SOL-USD", interval: "1h", limit: 1000 }),
    ]) {
      const answer = await send(request, urlOf(stack, { path: CANDLES, input }));
      expect(answer.status).toBe(200);
      expect((answer.body as { result: { data: { status: string } } }).result.data.status).toBe("ok");
    }
  });
  expectNoServerErrors(stack);
});

test("health.status: takes no input; a field, a number or non-JSON is a 400 naming it", async ({ request, stack }) => {
  const HEALTH = "health.status";
  await runCases(request, stack, [
    {
      name: "extra field",
      path: HEALTH,
      input: { verbose: true },
      status: 400,
      message: /^Invalid input: input: Unrecognized key: "verbose"/,
    },
    wrongInputCase(HEALTH, "input is a number", 5, "expected object, received number"),
    wrongInputCase(HEALTH, "input is an array", [], "expected object, received array"),
    wrongInputCase(HEALTH, "input is a 10 KB string", KB10, "received string"),
    notJsonCase(HEALTH),
  ]);
  for (const input of [undefined, {}]) {
    const answer = await send(request, urlOf(stack, { path: HEALTH, input }));
    expect(answer.status).toBe(200);
    expect((answer.body as { result: { data: unknown } }).result.data).toMatchObject({
      status: "ok",
      questdb: { breaker: "closed" },
    });
  }
  expectNoServerErrors(stack);
});

test("unknown procedures, wrong methods, 1 MB strings and batches: 4xx with a message, or a full answer for a legitimate batch", async ({
  request,
  stack,
}) => {
  const notFound = (path: string) =>
    new RegExp(`^No procedure found on path "${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"`);
  const cases: Case[] = [
    ...[
      "nope.nothing",
      "sessions",
      "sessions.active.extra",
      "toString",
      "__proto__",
      "constructor",
      "hasOwnProperty",
      "sessions.__proto__",
      "market.constructor",
    ].map((path): Case => ({ name: `unknown procedure ${path}`, path, status: 404, message: notFound(path) })),
    {
      name: "unknown procedure with unicode and control characters",
      path: encodeURIComponent("séssions.actïve\u0000"),
      status: 404,
      message: /^No procedure found on path "séssions\.actïve\u0000"/,
    },
    {
      name: "POST to a query",
      path: SESSIONS,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"limit":5}',
      status: 405,
      message: /^Unsupported POST-request to query procedure at path "sessions\.active"/,
    },
    {
      name: "POST to a query with a 1 MB body",
      path: CANDLES,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ symbol: MB1, interval: "1m" }),
      mayReset: true,
      status: 405,
      message: /^Unsupported POST-request to query procedure at path "market\.candles"/,
    },
    {
      name: "POST without a content type",
      path: SESSIONS,
      method: "POST",
      status: 415,
      message: /^Missing content-type header/,
    },
    {
      name: "POST of a form to a query",
      path: SESSIONS,
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "limit=5",
      status: 415,
      message: /^Unsupported content-type "application\/x-www-form-urlencoded/,
    },
    ...(["PUT", "DELETE", "PATCH"] as const).map(
      (method): Case => ({
        name: `${method} to a query`,
        path: SESSIONS,
        method,
        status: 405,
        message: /^Method Not Allowed$/,
      }),
    ),
    {
      name: "40 KB string in the input (a URL over the 16 KB header limit)",
      path: CANDLES,
      input: candles({ symbol: KB40 }),
      status: 431,
      message: /^Request Header Fields Too Large$/,
    },
    {
      name: "40 KB header",
      path: SESSIONS,
      headers: { "x-hostile": KB40 },
      status: 431,
      message: /^Request Header Fields Too Large$/,
    },
    {
      name: "1 MB string in the input (a 1 MB URL)",
      path: CANDLES,
      input: candles({ symbol: MB1 }),
      mayReset: true,
      status: 431,
      message: /^Request Header Fields Too Large$/,
    },
    {
      name: "1 MB string as the limit",
      path: SESSIONS,
      input: { limit: MB1 },
      mayReset: true,
      status: 431,
      message: /^Request Header Fields Too Large$/,
    },
    {
      name: "1 MB header",
      path: SESSIONS,
      headers: { "x-hostile": MB1 },
      mayReset: true,
      status: 431,
      message: /^Request Header Fields Too Large$/,
    },
    {
      name: "batch whose input is not an object",
      path: `${SESSIONS},${SESSIONS}`,
      query: "batch=1",
      input: 5,
      status: 400,
      message: /^"input" needs to be an object when doing a batch call/,
    },
    {
      name: "batch whose input is not JSON",
      path: `${SESSIONS},${SESSIONS}`,
      query: "batch=1",
      rawInput: "abc",
      status: 400,
      message: /is not valid JSON/,
    },
    {
      name: "batch of unknown procedures",
      path: Array(10).fill("nope").join(","),
      query: "batch=1",
      status: 404,
      message: notFound("nope"),
    },
    {
      name: "batch of 100 unknown procedures (over the cap)",
      path: Array(100).fill("nope").join(","),
      query: "batch=1",
      status: 400,
      message: /batch/i,
    },
    {
      name: "comma-separated paths without batch=1",
      path: `${SESSIONS},${SESSIONS}`,
      status: 404,
      message: notFound(`${SESSIONS},${SESSIONS}`),
    },
  ];
  await runCases(request, stack, cases);

  type BatchItem = {
    result?: { data: { status: string; message?: string } };
    error?: { message: string; data: { code: string; path: string } };
  };
  const batchUrl = (paths: string[], inputs: Record<number, unknown>) =>
    urlOf(stack, { path: paths.join(","), query: "batch=1", input: inputs });
  /** Each result of a batch is the union for its input: `ok`, or `degraded` / `error` with a message. */
  const expectUnion = (item: BatchItem | undefined) => {
    expect(["ok", "degraded", "error"]).toContain(item?.result?.data.status);
    if (item?.result?.data.status !== "ok") expect(item?.result?.data.message?.trim()).toBeTruthy();
  };

  await test.step("a batch of 100 calls is over the cap of 20: one 400 naming the limit, no query run", async () => {
    const inputs = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [i, { limit: i + 1 }]));
    const answer = await send(request, batchUrl(Array(100).fill(SESSIONS), inputs));
    expect(answer.status).toBe(400);
    expect(answer.message).toMatch(/batch/i);
  });

  await test.step("a batch of 20 identical valid calls: 200 and 20 ok results (one query, shared)", async () => {
    const inputs = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [i, { limit: 7 }]));
    const answer = await send(request, batchUrl(Array(20).fill(SESSIONS), inputs));
    expect(answer.status).toBe(200);
    const items = answer.body as BatchItem[];
    expect(items).toHaveLength(20);
    for (const item of items) expect(item.result?.data.status).toBe("ok");
  });

  await test.step("a batch of 20 calls over every procedure: 200 and 20 results, all ok on a healthy QuestDB", async () => {
    const paths = Array.from({ length: 20 }, (_, i) => [SESSIONS, CANDLES, "health.status"][i % 3]!);
    const inputs: Record<number, unknown> = {};
    paths.forEach((p, i) => {
      if (p === CANDLES) inputs[i] = candles({ limit: i + 1 });
      if (p === SESSIONS) inputs[i] = { limit: i + 1 };
    });
    const answer = await send(request, batchUrl(paths, inputs));
    expect(answer.status).toBe(200);
    const items = answer.body as BatchItem[];
    expect(items).toHaveLength(20);
    items.forEach((item, i) => {
      if (paths[i] === "health.status") expect(item.result?.data).toMatchObject({ questdb: { breaker: "closed" } });
      else expect(item.result?.data.status).toBe("ok");
    });
  });

  await test.step("a batch of 20 with one bad call: 207, the bad one a BAD_REQUEST naming the field", async () => {
    const inputs: Record<number, unknown> = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [i, { limit: i + 1 }]),
    );
    inputs[12] = { limit: -1 };
    const answer = await send(request, batchUrl(Array(20).fill(SESSIONS), inputs));
    expect(answer.status).toBe(207);
    const items = answer.body as BatchItem[];
    expect(items).toHaveLength(20);
    expect(items[12]?.error?.data.code).toBe("BAD_REQUEST");
    expect(items[12]?.error?.message).toMatch(/^Invalid input: limit: Too small/);
    items.filter((_, i) => i !== 12).forEach(expectUnion);
  });

  await test.step("a batch mixing a valid call, a bad input and an unknown procedure: 207, one answer each", async () => {
    const answer = await send(request, batchUrl([SESSIONS, CANDLES, "nope"], { 0: { limit: 5 }, 1: { symbol: 1 } }));
    expect(answer.status).toBe(207);
    const items = answer.body as BatchItem[];
    expectUnion(items[0]);
    expect(items[1]?.error?.message).toMatch(/^Invalid input: symbol: .*; interval: /);
    expect(items[2]?.error?.message).toMatch(notFound("nope"));
  });

  await test.step("nothing left stuck: the next two plain calls answer", async () => {
    // Two identical calls, to be sure a hostile request left nothing stuck behind it.
    for (let i = 0; i < 2; i++) {
      const answer = await send(request, urlOf(stack, { path: SESSIONS }));
      expect(answer.status).toBe(200);
    }
  });
  expectNoServerErrors(stack);
});

// ---------------------------------------------------------------------------------------------
// Fuzz

const ALPHABET = [
  ..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.,:;'\"`{}[]()<>/\\|!?@#$%^&*+=~ ",
  "\u0000",
  "\u0007",
  "\u001b",
  "\n",
  "\r",
  "\t",
  "\u007f",
  "\u00a0",
  "\u200b",
  "\u202e",
  "\u2028",
  "\ufeff",
  "é",
  "Ü",
  "ß",
  "€",
  "中",
  "😀",
  "\ud800",
  "\udfff",
  "Ｂ",
];

function fuzzString(rng: Rng): string {
  const plausible = [
    "BTC-USD",
    "ETH-USD",
    "SOL-USD",
    "1m",
    "5m",
    "1h",
    "limit",
    "symbol",
    "interval",
    "__proto__",
    "constructor",
    "'; DROP TABLE trades; --",
  ];
  if (rng.chance(0.3)) return rng.pick(plausible);
  const length = rng.chance(0.05) ? rng.int(100, 3000) : rng.int(0, 24);
  let text = "";
  for (let i = 0; i < length; i++) text += rng.pick(ALPHABET);
  return text;
}

function fuzzNumber(rng: Rng): number {
  return rng.pick([
    () => rng.int(-5, 1005),
    () => rng.int(1, 500),
    () => rng.next() * 1000,
    () => -rng.next() * 1e6,
    () => Number.MAX_SAFE_INTEGER + rng.int(0, 10),
    () => 1e300 * rng.next(),
    () => -0,
    () => 5e-324,
  ])();
}

function fuzzValue(rng: Rng, depth: number): unknown {
  const kind = rng.int(0, depth > 3 ? 4 : 7);
  switch (kind) {
    case 0:
      return fuzzNumber(rng);
    case 1:
    case 2:
      return fuzzString(rng);
    case 3:
      return rng.chance(0.5);
    case 4:
      return null;
    case 5:
      return Array.from({ length: rng.int(0, 4) }, () => fuzzValue(rng, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      const keys = rng.int(0, 4);
      for (let i = 0; i < keys; i++) {
        object[rng.chance(0.75) ? rng.pick(["limit", "symbol", "interval"]) : fuzzString(rng)] = fuzzValue(
          rng,
          depth + 1,
        );
      }
      return object;
    }
  }
}

const PROCEDURES = [SESSIONS, CANDLES, "health.status"];

test("fuzz: 400 seeded random inputs, paths and methods never get a 5xx, a hang or an empty message", async ({
  request,
  stack,
}) => {
  test.setTimeout(240_000);
  const rng = new Rng(Number(process.env.FUZZ_SEED ?? 8));
  const byStatus: Record<number, number> = {};
  for (let i = 0; i < 400; i++) {
    const roll = rng.next();
    const paths =
      roll < 0.75
        ? [rng.pick(PROCEDURES)]
        : roll < 0.9
          ? Array.from({ length: rng.int(2, 5) }, () => rng.pick(PROCEDURES))
          : [encodeComponent(fuzzString(rng)) || "x"];
    const batch = paths.length > 1 || rng.chance(0.05);
    const inputRoll = rng.next();
    let rawInput: string | undefined;
    if (inputRoll < 0.1) rawInput = undefined;
    else if (inputRoll < 0.25)
      rawInput = rng.chance(0.5) ? encodeComponent(fuzzString(rng)) : fuzzString(rng).replace(/[#&\s]/g, "");
    else if (batch) {
      rawInput = encodeURIComponent(JSON.stringify(Object.fromEntries(paths.map((_, j) => [j, fuzzValue(rng, 1)]))));
    } else {
      rawInput = encodeURIComponent(JSON.stringify(fuzzValue(rng, 0)));
    }
    const method = rng.chance(0.1) ? "POST" : "GET";
    let url = `${stack.app.url}/api/trpc/${paths.join(",")}`;
    const params = [batch ? "batch=1" : "", rawInput !== undefined ? `input=${rawInput}` : ""].filter(Boolean);
    if (params.length) url += `?${params.join("&")}`;
    const description = `#${i} ${method} ${decodeURIComponentSafe(url).slice(0, 300)}`;

    const answer = await send(
      request,
      url,
      method === "POST"
        ? { method, headers: { "content-type": "application/json" }, body: JSON.stringify(fuzzValue(rng, 0)) }
        : {},
    );
    byStatus[answer.status] = (byStatus[answer.status] ?? 0) + 1;
    expect(answer.status, description).toBeLessThan(500);
    expect(answer.status, description).toBeGreaterThanOrEqual(200);
    expect(answer.message.trim(), `${description}: message`).not.toBe("");
    // A data answer that got through validation is the contract's union with a message when not ok.
    const items = Array.isArray(answer.body) ? answer.body : [answer.body];
    for (const item of items as { result?: { data?: { status?: string; message?: string } } }[]) {
      const data = item?.result?.data;
      if (data && (data.status === "degraded" || data.status === "error"))
        expect(data.message?.trim(), description).toBeTruthy();
    }
  }
  test.info().annotations.push({ type: "fuzz answers by status", description: JSON.stringify(byStatus) });
  console.log(`[fuzz] answers by HTTP status: ${JSON.stringify(byStatus)}`);
  expectNoServerErrors(stack);
});

/** encodeURIComponent that does not throw on a lone surrogate (it becomes U+FFFD, as in a URL). */
function encodeComponent(text: string): string {
  return encodeURIComponent(
    text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd"),
  );
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
