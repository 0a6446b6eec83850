import type { SessionUser } from "@/contract/viewer";
import { EVERY_ACCOUNT } from "@/server/env";

/**
 * Who is let in: OIDC_ALLOWED_GROUPS against the groups the provider sent, at sign-in and at every
 * re-check (one rule for both).
 */

/**
 * A group as compared: Keycloak's "full group path" form of a top-level group ("/trading-ops") is
 * the group "trading-ops"; a nested path ("/ops/trading-ops") stays whole, so only that exact path
 * in OIDC_ALLOWED_GROUPS matches it, never a namesake elsewhere in the tree.
 */
export function groupName(group: string): string {
  return /^\/[^/]+$/.test(group) ? group.slice(1) : group;
}

/** Whether a signed-in user's groups let them in: `*` admits every account, nothing else does by default. */
export function isAllowed(user: SessionUser, allowedGroups: readonly string[]): boolean {
  if (allowedGroups.includes(EVERY_ACCOUNT)) return true;
  const allowed = new Set(allowedGroups.map(groupName));
  return user.groups.some((group) => allowed.has(groupName(group)));
}
