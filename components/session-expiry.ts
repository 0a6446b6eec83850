"use client";

import { TRPCClientError } from "@trpc/client";

/**
 * A session ends (8 hours, or the operator signed out in another tab): the next request is a 401.
 * Left alone, the page would read that as "server unreachable"; instead it goes through sign-in
 * and back to where it was — with the provider's own session still alive, without a password.
 */

/** Whether `error` is the app's "not signed in" answer. */
export function isSignedOut(error: unknown): boolean {
  return error instanceof TRPCClientError && (error.data as { httpStatus?: number } | undefined)?.httpStatus === 401;
}

let redirecting = false;

/** Sends the browser through sign-in, once, back to this page. */
export function signInAgain(): void {
  if (redirecting || typeof window === "undefined") return;
  redirecting = true;
  const here = `${window.location.pathname}${window.location.search}`;
  window.location.assign(`/api/auth/signin?returnTo=${encodeURIComponent(here)}`);
}
