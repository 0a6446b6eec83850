import { randomBytes } from "node:crypto";
import { z } from "zod";

/**
 * What the server keeps of one signed-in session, under the id its cookie carries: who it is, when
 * it ends, when the provider last confirmed the account, and the provider's tokens (to ask again
 * and to end the provider's session on sign-out). Whatever is read back from Redis or the data
 * directory is checked against this schema: a record that does not fit counts as no session.
 */

/** 32 random bytes, base64url: unguessable, and safe as a file name and a Redis key. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newSessionId(): string {
  return randomBytes(32).toString("base64url");
}

export const sessionRecordSchema = z.object({
  sid: z.string().regex(SESSION_ID_PATTERN),
  user: z.object({
    sub: z.string(),
    name: z.string(),
    email: z.string().nullable(),
    groups: z.array(z.string()),
  }),
  /** Epoch ms: the session's end, the cookie's too. */
  expiresAt: z.number().int(),
  /** Epoch ms: when the provider last confirmed the account and its groups (or the sign-in). */
  checkedAt: z.number(),
  refreshToken: z.string().nullable(),
  accessToken: z.string().nullable(),
  idToken: z.string().nullable(),
});

export type SessionRecord = z.output<typeof sessionRecordSchema>;

/** The provider's tokens of one sign-in or re-check; null for the ones it did not send. */
export type ProviderTokens = Pick<SessionRecord, "refreshToken" | "accessToken" | "idToken">;

/** The record, or null when the value is not one (wrong shape, another session's id). */
export function parseSessionRecord(value: unknown, sid: string): SessionRecord | null {
  const parsed = sessionRecordSchema.safeParse(value);
  return parsed.success && parsed.data.sid === sid ? parsed.data : null;
}

/** A stored record's text, parsed and checked; null when it is not one. */
export function parseSessionJson(text: string, sid: string): SessionRecord | null {
  try {
    return parseSessionRecord(JSON.parse(text), sid);
  } catch {
    return null;
  }
}
