"use client";

import { type ReactNode, type RefObject, useId, useState } from "react";

export interface ChartFigureProps {
  /** The canvas's container, which the chart library draws into. */
  canvas: RefObject<HTMLDivElement | null>;
  canvasClassName: string;
  /** What the drawing is, for whoever cannot see it; the summary and the table say the rest. */
  canvasLabel: string;
  /** The chart in words, always shown under it. */
  summary: ReactNode;
  summaryTestId?: string;
  /** The chart's data as a table (or list), rendered only while shown. */
  table: () => ReactNode;
  tableName: string;
  className?: string;
  testId?: string;
}

/**
 * A chart readable without seeing it: the drawing (an image to assistive technology), its summary
 * in words, and a "Table" toggle that shows the same data as a table.
 */
export function ChartFigure({
  canvas,
  canvasClassName,
  canvasLabel,
  summary,
  summaryTestId,
  table,
  tableName,
  className = "chart",
  testId,
}: ChartFigureProps) {
  const [showTable, setShowTable] = useState(false);
  const tableId = useId();
  return (
    <figure className={className} data-testid={testId}>
      <div ref={canvas} className={`chart-canvas ${canvasClassName}`} role="img" aria-label={canvasLabel} />
      <figcaption className="chart-caption">
        <span data-testid={summaryTestId}>{summary}</span>{" "}
        <button
          type="button"
          className="chart-table-toggle"
          aria-expanded={showTable}
          aria-controls={tableId}
          data-testid="chart-table-toggle"
          onClick={() => setShowTable((shown) => !shown)}
        >
          {showTable ? "Hide table" : "Table"}
          <span className="visually-hidden"> of {tableName}</span>
        </button>
      </figcaption>
      <div id={tableId} className="chart-table" hidden={!showTable}>
        {showTable && table()}
      </div>
    </figure>
  );
}
