"use client";

import { useCallback, useEffect, useState } from "react";
import { type MarketSelection, parseMarketSelection, withMarketSelection } from "./market-selection";

/**
 * The chart's selection kept in the URL as it changes (history.replaceState: no navigation, no new
 * history entry), so the address bar is always a link to what the operator sees.
 */
export function useMarketSelection(
  initial: MarketSelection,
): [MarketSelection, (change: Partial<MarketSelection>) => void] {
  const [selection, setSelection] = useState(initial);
  const change = useCallback((patch: Partial<MarketSelection>) => setSelection((s) => ({ ...s, ...patch })), []);
  useEffect(() => {
    // Written only when the URL says otherwise: "/" (the default chart) stays a plain "/".
    const inUrl = parseMarketSelection(Object.fromEntries(new URLSearchParams(window.location.search)));
    if (inUrl.symbol === selection.symbol && inUrl.interval === selection.interval) return;
    window.history.replaceState(window.history.state, "", withMarketSelection(window.location.href, selection));
  }, [selection]);
  return [selection, change];
}
