"use client";

import { useTabTransport } from "./LiveTransportProvider";
import { TRANSPORT_WORDS } from "./StatusChip";

/**
 * What the header's chips mean, in words on the page rather than in tooltips, and the charting
 * library's attribution: its licence asks for a link to TradingView, given here once instead of a
 * logo inside each chart (which put a focusable link inside each chart's image).
 */
export function PageFooter() {
  const { transport } = useTabTransport();
  return (
    <footer className="page-footer">
      <p data-testid="transport-note">
        Times are shown in the zone chosen at the top; the chip says the page&apos;s state and how old cached data is.
        Now: {TRANSPORT_WORDS[transport]}.
      </p>
      <p>
        Charts by{" "}
        <a href="https://www.tradingview.com/" rel="noopener noreferrer">
          TradingView Lightweight Charts™
        </a>{" "}
        (Copyright © 2025 TradingView, Inc.).
      </p>
    </footer>
  );
}
