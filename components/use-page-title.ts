"use client";

import { useEffect } from "react";
import type { PageStatus } from "./StatusChip";

/**
 * The tab says the page's state when the operator is on another tab: its title and its icon
 * change with it ("⚠ Degraded — QuestDB operator dashboard", an amber dot).
 */

export const BASE_TITLE = "QuestDB operator dashboard";

const TITLE_PREFIX: Record<PageStatus, string> = {
  live: "",
  loading: "",
  degraded: "⚠ Degraded — ",
  unavailable: "✖ Unavailable — ",
  unreachable: "✖ App unreachable — ",
};

const ICON_COLOR: Record<PageStatus, string> = {
  live: "#3fb950",
  loading: "#8b949e",
  degraded: "#d29922",
  unavailable: "#f85149",
  unreachable: "#f85149",
};

export function documentTitle(status: PageStatus): string {
  return `${TITLE_PREFIX[status]}${BASE_TITLE}`;
}

/** A round dot in the state's colour, as a data URL (the CSP allows data: images). */
export function faviconHref(status: PageStatus): string {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">` +
    `<circle cx="8" cy="8" r="7" fill="${ICON_COLOR[status]}"/></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

export function usePageTitle(status: PageStatus): void {
  useEffect(() => {
    document.title = documentTitle(status);
    let icon = document.querySelector<HTMLLinkElement>("link[data-state-icon]");
    if (!icon) {
      icon = document.createElement("link");
      icon.rel = "icon";
      icon.dataset.stateIcon = "";
      document.head.appendChild(icon);
    }
    icon.href = faviconHref(status);
  }, [status]);
}
