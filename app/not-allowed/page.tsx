import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { SignOutButton } from "@/components/AccountBadge";
import { viewerOf } from "@/server/auth/viewer";
import { env } from "@/server/env";

export const dynamic = "force-dynamic";

/** A signed-in user outside OIDC_ALLOWED_GROUPS: who they are, why not, and no data at all. */
export default async function NotAllowedPage() {
  const viewer = await viewerOf(await headers(), env());
  if (viewer.kind !== "not-allowed") redirect("/");
  return (
    <main className="auth-page panel" data-testid="not-allowed">
      <h1>Not allowed</h1>
      <p>
        You are signed in as <strong>{viewer.user.email ?? viewer.user.name}</strong>, but this dashboard is open only
        to members of {env().OIDC_ALLOWED_GROUPS.join(", ")}.
      </p>
      <p data-testid="account-groups">
        The provider says your account is in{" "}
        {viewer.user.groups.length > 0 ? viewer.user.groups.join(", ") : "no group at all (no groups claim)"}.
      </p>
      <p>Ask an administrator of your identity provider to add you to one of those groups, then sign in again.</p>
      <div className="actions">
        <SignOutButton />
      </div>
    </main>
  );
}
