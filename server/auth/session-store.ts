import type { SessionRecord } from "./session-record";

/**
 * Where sessions live, server-side: Redis in fleet mode (every instance sees a sign-out at once),
 * one small file per session in DASHBOARD_DATA_DIR otherwise. Every call answers instead of
 * throwing; `undefined` means the store could not be asked (Redis down), which is not "no session".
 */
export interface SessionStore {
  /** The record, null when there is none (never was, signed out, expired), undefined when unavailable. */
  read(sid: string): Promise<SessionRecord | null | undefined>;
  /** A new session; false when it could not be written. */
  create(record: SessionRecord): Promise<boolean>;
  /** A re-check's result, written only while the session still exists (a sign-out meanwhile wins). */
  update(record: SessionRecord): Promise<boolean>;
  /** Ends the session; false when the store could not be reached. */
  remove(sid: string): Promise<boolean>;
  /**
   * Whether this instance may ask the provider about `sid` now: one instance at a time, so a
   * rotating refresh token is never used twice.
   */
  claimRecheck(sid: string, forMs: number): Promise<boolean>;
}
