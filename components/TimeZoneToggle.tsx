"use client";

import { setTimeZoneChoice, type TimeZoneChoice, useTimeZoneChoice } from "./clock";

/** UTC (a trading desk's default) or the browser's own zone; the choice is kept in this browser. */
export function TimeZoneToggle() {
  const choice = useTimeZoneChoice();
  return (
    <label className="zone-choice">
      Times in{" "}
      <select
        value={choice}
        onChange={(e) => setTimeZoneChoice(e.target.value as TimeZoneChoice)}
        data-testid="time-zone-toggle"
      >
        <option value="utc">UTC</option>
        <option value="local">local time</option>
      </select>
    </label>
  );
}
