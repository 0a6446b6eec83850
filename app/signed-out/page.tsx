export const dynamic = "force-dynamic";

/** Where sign-out ends (after the provider's own logout, when it has one): no data, one way back in. */
export default function SignedOutPage() {
  return (
    <main className="auth-page panel" data-testid="signed-out">
      <h1>Signed out</h1>
      <p>
        You are signed out of the QuestDB operator dashboard: the session is ended on the server, so a copy of its
        cookie opens nothing, and at the sign-in service when it offers that.
      </p>
      <div className="actions">
        <a href="/api/auth/signin?returnTo=%2F" data-testid="sign-in-again">
          Sign in again
        </a>
      </div>
    </main>
  );
}
