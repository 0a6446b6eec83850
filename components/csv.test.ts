import { describe, expect, it } from "vitest";
import { csvFileName, toCsv } from "./csv";

describe("toCsv", () => {
  it("a header, then one CRLF line per row; numbers as numbers, missing as empty", () => {
    expect(
      toCsv(
        ["a", "b", "c"],
        [
          ["x", 1.5, null],
          ["y", -2, undefined],
        ],
      ),
    ).toBe("a,b,c\r\nx,1.5,\r\ny,-2,\r\n");
  });

  it("quotes commas, quotes and line breaks (RFC 4180)", () => {
    expect(toCsv(["v"], [['say "hi", then\ngo']])).toBe('v\r\n"say ""hi"", then\ngo"\r\n');
  });

  it("text a spreadsheet would run as a formula is defused; a negative number is not text", () => {
    expect(toCsv(["v"], [["=HYPERLINK(1)"], ["+1"], ["@sum"], [-3]])).toBe(
      'v\r\n"\'=HYPERLINK(1)"\r\n"\'+1"\r\n"\'@sum"\r\n-3\r\n',
    );
  });
});

describe("csvFileName", () => {
  it("what and when, safe as a file name", () => {
    expect(csvFileName("candles-ETH-USD-5m", Date.parse("2026-11-28T21:15:07Z"))).toBe(
      "candles-ETH-USD-5m-2026-11-28T2115Z.csv",
    );
    expect(csvFileName("a/b c", 0)).toBe("a-b-c-1970-01-01T0000Z.csv");
  });
});
