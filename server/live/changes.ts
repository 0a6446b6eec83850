import { randomBytes } from "node:crypto";
import type { LiveEvent } from "@/contract/answer";

/**
 * What counts as a change of a live topic, in one place: an answer is new when its fingerprint
 * differs from the last one's, and an event is newer when its id (`<loop id>.<sequence>`) is later
 * in the same loop. A loop that starts (or is taken over) gets a new id, so its sequence is its own
 * and a viewer holding an id of another loop always gets the current answer.
 */

/** A fresh answer every tick differs only in its fetch time and version; that is not a change worth sending. */
export function fingerprintOf(answer: unknown): string {
  if (answer && typeof answer === "object" && "fetchedAt" in answer) {
    const { fetchedAt: _ignored, version: _newerFetch, ...rest } = answer as Record<string, unknown>;
    return JSON.stringify(rest);
  }
  return JSON.stringify(answer);
}

/** Whether event id `id` is not newer than `than` within one loop (ids of another loop are never "not newer"). */
export function isSameOrOlder(id: string, than: string | null | undefined): boolean {
  if (!than) return false;
  const [loop, seq] = id.split(".");
  const [otherLoop, otherSeq] = than.split(".");
  return loop === otherLoop && Number(seq) <= Number(otherSeq);
}

export function newLoopId(): string {
  return randomBytes(4).toString("hex");
}

/** An event another instance published, or null when the message is not one. */
export function parseRelayedEvent(message: string): LiveEvent | null {
  try {
    const event = JSON.parse(message) as LiveEvent;
    return typeof event.id === "string" && "answer" in event ? event : null;
  } catch {
    return null;
  }
}
