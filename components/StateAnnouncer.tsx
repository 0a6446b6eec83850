"use client";

import { useEffect, useReducer } from "react";
import { useTimeZone } from "./clock";
import { announcerReducer, INITIAL_ANNOUNCER, type ObservedPanel } from "./state-announcements";

/**
 * The page's one live region: a sentence when a panel goes stale, fails or is live again
 * (state-announcements.ts decides). Nothing that ticks is inside it; banners and the chip tick
 * outside any live region, so a screen reader hears changes of state, not the clock.
 */
export function StateAnnouncer({ panels }: { panels: readonly ObservedPanel[] }) {
  const [state, dispatch] = useReducer(announcerReducer, INITIAL_ANNOUNCER);
  const timeZone = useTimeZone();
  // The conditions as one value, so the effect runs when one changes, not on every render.
  const observed = JSON.stringify(panels);
  useEffect(() => {
    dispatch({ type: "observed", panels: JSON.parse(observed) as ObservedPanel[], timeZone });
  }, [observed, timeZone]);
  return (
    <div
      className="visually-hidden"
      role="log"
      aria-live="polite"
      aria-label="Changes of state"
      data-testid="state-announcer"
    >
      {state.said.map((announcement) => (
        <p key={announcement.id}>{announcement.text}</p>
      ))}
    </div>
  );
}
