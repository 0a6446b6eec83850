/**
 * Every time on the page, in one zone and with its name: "14:03:27 UTC". Pure, so the server's
 * render and the browser's hydration write the same text for the same zone and clock.
 */

/** The zone a trading desk reads by default. */
export const DEFAULT_TIME_ZONE = "UTC";

const formats = new Map<string, Intl.DateTimeFormat>();

/** One formatter per zone and shape: building one costs more than using it, and a table formats hundreds. */
function formatter(timeZone: string, shape: "clock" | "minutes" | "date-time"): Intl.DateTimeFormat {
  const key = `${timeZone}|${shape}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      hourCycle: "h23",
      hour: "2-digit",
      minute: "2-digit",
      ...(shape === "clock" ? { second: "2-digit" } : {}),
      ...(shape === "date-time" ? { day: "numeric", month: "short" } : {}),
      timeZoneName: "short",
    });
    formats.set(key, format);
  }
  return format;
}

function format(at: string | number, timeZone: string, shape: "clock" | "minutes" | "date-time"): string {
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return String(at);
  const parts = formatter(timeZone, shape).formatToParts(date);
  const zone = parts.find((part) => part.type === "timeZoneName")?.value ?? timeZone;
  const rest = parts
    .filter((part) => part.type !== "timeZoneName")
    .map((part) => part.value)
    .join("")
    .replace(/,/g, "")
    .trim();
  return `${rest} ${zone}`;
}

/** "14:03:27 UTC": a time of day in `timeZone` (an IANA name), named. */
export function formatClock(at: string | number, timeZone: string): string {
  return format(at, timeZone, "clock");
}

/** "14:03 UTC": the same without seconds, for sentences read aloud. */
export function formatMinutes(at: string | number, timeZone: string): string {
  return format(at, timeZone, "minutes");
}

/** "28 Nov 14:03 UTC": for spans that may cross midnight. */
export function formatDateTime(at: string | number, timeZone: string): string {
  return format(at, timeZone, "date-time");
}

/** "12 s", "2 min", "1 h 5 min", "3 d": a duration in words an operator reads at a glance. */
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

/** An axis label in `timeZone`: the year, month, day or time a tick mark stands for. */
export function formatTick(at: number, timeZone: string, kind: "year" | "month" | "day" | "time" | "seconds"): string {
  const options: Record<typeof kind, Intl.DateTimeFormatOptions> = {
    year: { year: "numeric" },
    month: { month: "short" },
    day: { day: "numeric", month: "short" },
    time: { hour: "2-digit", minute: "2-digit", hourCycle: "h23" },
    seconds: { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" },
  };
  return new Intl.DateTimeFormat("en-GB", { timeZone, ...options[kind] }).format(new Date(at));
}
