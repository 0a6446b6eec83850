import { describe, expect, it } from "vitest";
import { parseMarketSelection, withMarketSelection } from "./market-selection";

describe("the chart's selection in the URL", () => {
  it("reads a known symbol and interval", () => {
    expect(parseMarketSelection({ symbol: "ETH-USD", interval: "5m" })).toEqual({ symbol: "ETH-USD", interval: "5m" });
    expect(parseMarketSelection({ symbol: ["sol-usd", "x"], interval: "1h" })).toEqual({
      symbol: "SOL-USD",
      interval: "1h",
    });
  });

  it("a symbol outside the demo's three is kept (QuestDB decides whether it trades)", () => {
    expect(parseMarketSelection({ symbol: "xrp-eur" })).toEqual({ symbol: "XRP-EUR", interval: "1m" });
  });

  it("anything missing or malformed is the default chart", () => {
    expect(parseMarketSelection({})).toEqual({ symbol: "BTC-USD", interval: "1m" });
    expect(parseMarketSelection({ symbol: "DOGE/USD'--", interval: "7m" })).toEqual({
      symbol: "BTC-USD",
      interval: "1m",
    });
    expect(parseMarketSelection({ symbol: "A".repeat(9) + "-USD" })).toEqual({ symbol: "BTC-USD", interval: "1m" });
  });

  it("writes the selection, keeping the URL's other parameters", () => {
    expect(withMarketSelection("http://x/?from=bookmark#top", { symbol: "ETH-USD", interval: "5m" })).toBe(
      "/?from=bookmark&symbol=ETH-USD&interval=5m#top",
    );
  });
});
