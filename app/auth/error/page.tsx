import { safeReturnTo } from "@/server/auth/return-to";

export const dynamic = "force-dynamic";

/** Fixed words per reason: the page never echoes the provider's or the URL's text. */
const REASONS: Record<string, { title: string; text: string }> = {
  provider_unreachable: {
    title: "The sign-in service is not answering",
    text:
      "The identity provider could not be reached, so nobody can sign in right now. " +
      "Operators already signed in keep working. Try again in a moment.",
  },
  provider_misconfigured: {
    title: "The sign-in service is set up differently from this dashboard",
    text:
      "The identity provider answers, but under another issuer address than the dashboard's OIDC_ISSUER. " +
      "Nobody can sign in until an administrator sets OIDC_ISSUER to the address the dashboard's log " +
      "names (auth.sign_in_failed). Operators already signed in keep working.",
  },
  provider_refused: {
    title: "The sign-in was refused",
    text:
      "The identity provider did not let this sign-in through (it was cancelled or refused). " +
      "Try again, or ask your administrator.",
  },
  sign_in_expired: {
    title: "The sign-in took too long or was interrupted",
    text: "The sign-in started too long ago, in another browser, or its cookie was lost. Start again.",
  },
  sign_in_failed: {
    title: "The sign-in could not be completed",
    text:
      "The identity provider's answer failed a security check. Start again; if it keeps failing, " +
      "ask your administrator to look at the dashboard's log (auth.sign_in_failed).",
  },
};

export default async function AuthErrorPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const params = await searchParams;
  const reason = REASONS[String(params.reason)] ?? REASONS.sign_in_failed!;
  const returnTo = safeReturnTo(typeof params.returnTo === "string" ? params.returnTo : "/");
  return (
    <main className="auth-page panel" data-testid="auth-error">
      <h1>{reason.title}</h1>
      <p>{reason.text}</p>
      <div className="actions">
        <a href={`/api/auth/signin?returnTo=${encodeURIComponent(returnTo)}`} data-testid="sign-in-again">
          Try signing in again
        </a>
      </div>
    </main>
  );
}
