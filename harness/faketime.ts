import fs from "node:fs";

/**
 * A process whose wall clock runs ahead (or behind) of the machine's, through Debian's libfaketime
 * (`apt-get install faketime`): LD_PRELOAD of the library and FAKETIME="+60s" in the child's
 * environment, so `Date.now()` in a `next start` is off by that much while the machine, QuestDB and
 * Redis keep the true time. The monotonic clock is left alone (FAKETIME_DONT_FAKE_MONOTONIC), so
 * Node's timers and performance.now() behave as usual. Children of the process inherit the offset.
 */

/** Where Debian's `faketime` package puts the library (amd64). */
const DEBIAN_LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/** Thrown (with one line) when libfaketime is not installed. */
export class FaketimeUnavailableError extends Error {
  override name = "FaketimeUnavailableError";
}

/** $LIBFAKETIME when set, otherwise Debian's path; one clear line when the file is not there. */
export function libfaketimePath(): string {
  const file = process.env.LIBFAKETIME?.trim() || DEBIAN_LIBFAKETIME;
  if (!fs.existsSync(file)) {
    throw new FaketimeUnavailableError(
      `Cannot shift a clock: libfaketime is not at ${file} (apt-get install faketime, or set LIBFAKETIME)`,
    );
  }
  return file;
}

/** The environment that puts a child's wall clock `offsetSeconds` ahead (negative: behind) of the machine's. */
export function clockOffsetEnv(offsetSeconds: number): Record<string, string> {
  if (!Number.isInteger(offsetSeconds)) throw new Error(`clockOffsetEnv: ${offsetSeconds} is not whole seconds`);
  const preload = [libfaketimePath(), process.env.LD_PRELOAD].filter(Boolean).join(" ");
  return {
    LD_PRELOAD: preload,
    FAKETIME: `${offsetSeconds >= 0 ? "+" : ""}${offsetSeconds}s`,
    FAKETIME_DONT_FAKE_MONOTONIC: "1",
  };
}

/**
 * How far ahead of this machine the server at `url` says it is, in seconds, from its HTTP `Date`
 * header (Node writes it from `Date.now()`; whole seconds, so ±1 s).
 */
export async function serverClockOffsetSeconds(url: string): Promise<number> {
  const before = Date.now();
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  await response.arrayBuffer();
  const date = response.headers.get("date");
  if (!date) throw new Error(`${url} sent no Date header`);
  const middle = (before + Date.now()) / 2;
  return Math.round((Date.parse(date) - middle) / 1000);
}
