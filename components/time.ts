"use client";

import { useEffect, useState } from "react";

/** The current time, re-rendering every `everyMs` so relative times tick. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** "14:03:27" in the viewer's time zone. */
export function formatClock(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

/** "just now", "12 s", "2 min", "1 h 5 min", "3 d" — a duration in words an operator reads at a glance. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

/** "just now" or "2 min ago", for an ISO time or epoch milliseconds. */
export function formatAgo(at: string | number, now: number): string {
  const ms = now - new Date(at).getTime();
  if (!Number.isFinite(ms)) return "";
  return ms < 1000 ? "just now" : `${formatDuration(ms)} ago`;
}
