import { expect, test } from "./fixtures";

/**
 * `market.symbols` (issue 20, hole 3): the symbols QuestDB has trades for, as a Resilient answer;
 * `market.candles` and `market.onCandles` accept only these (a 400 naming the field), except while
 * no list can be had at all (QuestDB down, nothing cached), when the input's pattern decides.
 */

const input = (value: unknown) => encodeURIComponent(JSON.stringify(value));

test("the symbols QuestDB has trades for; a symbol it has none for is a 400 naming the field", async ({
  request,
  stack,
}) => {
  const symbols = await request.get(`${stack.app.url}/api/trpc/market.symbols`);
  expect(symbols.status()).toBe(200);
  const answer = (await symbols.json()).result.data;
  expect(answer).toMatchObject({ status: "ok" });
  expect(answer.data).toEqual(expect.arrayContaining(["BTC-USD", "ETH-USD", "SOL-USD"]));

  const known = await request.get(
    `${stack.app.url}/api/trpc/market.candles?input=${input({ symbol: "ETH-USD", interval: "5m" })}`,
  );
  expect(known.status()).toBe(200);
  for (const path of ["market.candles", "market.onCandles"]) {
    const unknown = await request.get(
      `${stack.app.url}/api/trpc/${path}?input=${input({ symbol: "DOGE-USD", interval: "1m" })}`,
      { headers: path === "market.onCandles" ? { accept: "text/event-stream" } : {} },
    );
    const text = await unknown.text();
    if (path === "market.candles") expect(unknown.status()).toBe(400);
    expect(text, path).toMatch(/Invalid input: symbol: \\?"DOGE-USD\\?" is not a symbol QuestDB has trades for/);
  }
});

test.describe("QuestDB down from the start (no symbols known)", () => {
  test.use({ questdbDown: true });

  test("a well-formed symbol is not refused: the answer says QuestDB is unreachable, not 'bad input'", async ({
    request,
    stack,
  }) => {
    const res = await request.get(
      `${stack.app.url}/api/trpc/market.candles?input=${input({ symbol: "BTC-USD", interval: "1m" })}`,
    );
    expect(res.status()).toBe(200);
    expect((await res.json()).result.data).toMatchObject({ status: "error", reason: "database_unavailable" });
    const symbols = await request.get(`${stack.app.url}/api/trpc/market.symbols`);
    expect((await symbols.json()).result.data).toMatchObject({ status: "error", reason: "database_unavailable" });
  });
});

test("the page's symbol picker offers what QuestDB trades: a new symbol appears, opens its chart, and is in the URL", async ({
  page,
  stack,
}) => {
  // A symbol the demo never writes: a hard-coded list of three could not offer it.
  await stack.questdb.sql(
    "INSERT INTO trades (ts, symbol, side, price, amount) VALUES (now(), 'XRP-EUR', 'buy', 0.61, 1000)",
  );
  await expect
    .poll(async () => (await (await page.request.get(`${stack.app.url}/api/trpc/market.symbols`)).json()).result.data)
    .toMatchObject({ status: "ok", data: expect.arrayContaining(["XRP-EUR"]) });
  await page.goto(stack.app.url);
  const picker = page.getByTestId("market-symbol");
  await expect(picker.locator("option")).toContainText(["BTC-USD", "ETH-USD", "SOL-USD", "XRP-EUR"]);
  await picker.selectOption("XRP-EUR");
  await expect(page).toHaveURL(/[?&]symbol=XRP-EUR(&|$)/);
  await expect(page.getByTestId("candles-summary")).toContainText(/0\.61/);

  // The link opens on that chart.
  await page.goto(`${stack.app.url}/?symbol=XRP-EUR&interval=5m`);
  await expect(picker).toHaveValue("XRP-EUR");
  await expect(page.getByTestId("market-interval")).toHaveValue("5m");
});
