"use client";

import { CANDLE_INTERVALS } from "@/contract/market";
import type { MarketSelection } from "./market-selection";

/**
 * The chart's symbol and interval pickers. The symbols are the ones QuestDB has trades for
 * (`market.symbols`, given as `symbols`); the selected one is always offered, so a symbol from a
 * link, or a list not yet loaded (QuestDB down), never makes the picker lie about the chart shown.
 */
export function MarketControls({
  selection,
  symbols,
  onChange,
}: {
  selection: MarketSelection;
  symbols: readonly string[];
  onChange: (change: Partial<MarketSelection>) => void;
}) {
  const pickers = [
    { label: "Symbol", key: "symbol", options: symbolOptions(selection.symbol, symbols) },
    { label: "Interval", key: "interval", options: CANDLE_INTERVALS },
  ] as const;
  return (
    <div className="controls">
      {pickers.map(({ label, key, options }) => (
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

/** The known symbols, sorted, with the selected one among them. */
export function symbolOptions(selected: string, known: readonly string[]): string[] {
  return [...new Set([selected, ...known])].sort();
}

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
