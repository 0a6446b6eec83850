import { describe, expect, it } from "vitest";
import { formatAgo, formatClock, formatDateTime, formatDuration, formatMinutes, formatTick } from "./time";

const AT = "2026-11-28T21:15:07Z";

describe("times in one named zone", () => {
  it("UTC by name, whatever the machine's zone", () => {
    expect(formatClock(AT, "UTC")).toBe("21:15:07 UTC");
    expect(formatMinutes(AT, "UTC")).toBe("21:15 UTC");
    expect(formatDateTime(AT, "UTC")).toBe("28 Nov 21:15 UTC");
  });

  it("another zone, named too; epoch milliseconds as well as ISO", () => {
    expect(formatClock(Date.parse(AT), "America/New_York")).toBe("16:15:07 GMT-5");
    expect(formatMinutes(AT, "Asia/Kolkata")).toBe("02:45 GMT+5:30");
    expect(formatDateTime(AT, "Asia/Kolkata")).toBe("29 Nov 02:45 GMT+5:30");
  });

  it("a time that does not parse is shown as it came", () => {
    expect(formatClock("not a time", "UTC")).toBe("not a time");
  });

  it("axis labels in the zone, without its name", () => {
    expect(formatTick(Date.parse(AT), "UTC", "time")).toBe("21:15");
    expect(formatTick(Date.parse(AT), "America/New_York", "seconds")).toBe("16:15:07");
    expect(formatTick(Date.parse(AT), "UTC", "day")).toBe("28 Nov");
  });
});

describe("durations", () => {
  it("in words an operator reads at a glance", () => {
    expect(formatDuration(12_400)).toBe("12 s");
    expect(formatDuration(125_000)).toBe("2 min");
    expect(formatDuration(65 * 60_000)).toBe("1 h 5 min");
    expect(formatDuration(72 * 3_600_000)).toBe("3 d");
    expect(formatAgo(Date.parse(AT) - 500, Date.parse(AT))).toBe("just now");
    expect(formatAgo(AT, Date.parse(AT) + 120_000)).toBe("2 min ago");
  });
});
