"use client";

import { csvFileName } from "./csv";

/** Downloads what a panel shows as CSV; the rows are built only when the operator asks. */
export function CsvButton({ what, label, csv }: { what: string; label: string; csv: () => string }) {
  const download = () => {
    const url = URL.createObjectURL(new Blob([csv()], { type: "text/csv;charset=utf-8" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = csvFileName(what, Date.now());
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <button type="button" className="csv-button" onClick={download} data-testid={`${what}-csv`}>
      CSV<span className="visually-hidden"> of {label}</span>
    </button>
  );
}
