"use client";

import { CANDLE_INTERVALS, TRADE_SYMBOLS } from "@/contract/market";
import type { MarketSelection } from "./market-selection";

/** The chart's symbol and interval pickers. */
export function MarketControls({
  selection,
  onChange,
}: {
  selection: MarketSelection;
  onChange: (change: Partial<MarketSelection>) => void;
}) {
  return (
    <div className="controls">
      {PICKERS.map(({ label, key, options }) => (
        <Picker
          key={key}
          label={label}
          value={selection[key]}
          options={options}
          testId={`market-${key}`}
          onPick={(value) => onChange({ [key]: value } as Partial<MarketSelection>)}
        />
      ))}
    </div>
  );
}

const PICKERS = [
  { label: "Symbol", key: "symbol", options: TRADE_SYMBOLS },
  { label: "Interval", key: "interval", options: CANDLE_INTERVALS },
] as const;

function Picker(props: {
  label: string;
  value: string;
  options: readonly string[];
  testId: string;
  onPick: (value: string) => void;
}) {
  return (
    <label>
      {props.label}{" "}
      <select value={props.value} onChange={(e) => props.onPick(e.target.value)} data-testid={props.testId}>
        {props.options.map((option) => (
          <option key={option}>{option}</option>
        ))}
      </select>
    </label>
  );
}
