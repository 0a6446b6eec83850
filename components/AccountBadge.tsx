import type { Viewer } from "@/contract/viewer";

/**
 * The header's corner: who is signed in and a sign-out button (a POST from this page; the route
 * checks it came from here), or — with AUTH_MODE=none — a mark that nobody had to sign in.
 */
export function AccountBadge({ viewer }: { viewer: Viewer }) {
  if (viewer.kind === "auth-off") {
    return (
      <span
        className="chip chip-auth-off"
        data-testid="auth-off"
        title="AUTH_MODE=none: anyone who reaches this server sees this dashboard"
      >
        Authentication off
      </span>
    );
  }
  if (viewer.kind === "anonymous") return null;
  return (
    <span className="account" data-testid="account">
      <span data-testid="account-name">{viewer.user.name}</span>
      <SignOutButton />
    </span>
  );
}

export function SignOutButton() {
  return (
    <form method="post" action="/api/auth/signout">
      <button type="submit" data-testid="sign-out">
        Sign out
      </button>
    </form>
  );
}
