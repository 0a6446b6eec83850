import type { ReactNode } from "react";

/**
 * A long table scrolling inside its panel: a labelled region the keyboard can reach (Tab, then the
 * arrow keys), so its rows are not for mouse users only.
 */
export function ScrollRegion({ label, children }: { label: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard
    <section className="table-scroll" tabIndex={0} aria-label={label}>
      {children}
    </section>
  );
}
