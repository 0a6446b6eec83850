/**
 * Who is asking, as the page shows it: sign-in off, an operator, someone signed in but not in an
 * allowed group, or nobody. Client-safe: the server decides it (server/auth/viewer.ts).
 */

export interface SessionUser {
  sub: string;
  name: string;
  email: string | null;
  groups: string[];
}

/** Why a session cookie was not accepted. */
export type UnsealFailure = "expired" | "invalid";

export type Viewer =
  | { kind: "auth-off" }
  | {
      kind: "operator";
      user: SessionUser;
      /** When the session ends (epoch ms): a live stream ends with it. */
      expiresAt: number;
    }
  | { kind: "not-allowed"; user: SessionUser }
  | { kind: "anonymous"; why: "no session" | `${UnsealFailure} session` };
