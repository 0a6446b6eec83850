"use client";

import type { ReactNode } from "react";
import { AppUnreachableBanner } from "./AppUnreachableBanner";

export interface PanelFrameProps {
  title: string;
  /** The heading's id, which labels the panel. */
  headingId: string;
  /** What the panel shows now, as `data-state`. */
  state: string;
  /** The panel's own class beside `panel`, e.g. `panel-ok` or `panel-health`. */
  className: string;
  id?: string;
  controls?: ReactNode;
  /** Set while the browser cannot reach the dashboard server: the banner saying so. */
  appUnreachable?: { since: number; lastDataAt: number | null; testId: string } | null;
  children: ReactNode;
}

/** The frame every panel shares: a labelled section, its header, and the app-unreachable banner. */
export function PanelFrame({
  title,
  headingId,
  state,
  className,
  id,
  controls,
  appUnreachable,
  children,
}: PanelFrameProps) {
  return (
    <section className={`panel ${className}`} aria-labelledby={headingId} data-state={state} id={id}>
      <header className="panel-header">
        <h2 id={headingId}>{title}</h2>
        {controls}
      </header>
      {appUnreachable && <AppUnreachableBanner {...appUnreachable} />}
      {children}
    </section>
  );
}
