/**
 * Why a configured key is too easy to guess, or null when it looks random. Length alone lets
 * "aaaa…" or "passwordpassword…" through, and the session cookie's key is derived from it: anyone
 * who guesses it can seal a session of their own. The checks are deliberately simple and explainable
 * in one line; `openssl rand -base64 48` or `-hex 32` always passes them.
 */

/** Fewer different characters than this is a repeated character, whatever the length. */
const MIN_DISTINCT_CHARACTERS = 8;
/** What must be left once the common words are taken out. */
const MIN_CHARACTERS_BESIDE_WORDS = 16;

/** Words people put in secrets by hand; longest first, so "passwords" is taken before "password". */
const COMMON_WORDS = [
  "administrator",
  "production",
  "development",
  "dashboard",
  "changeme",
  "password",
  "passwort",
  "letmein",
  "welcome",
  "session",
  "staging",
  "questdb",
  "example",
  "default",
  "trading",
  "monitor",
  "correct",
  "battery",
  "private",
  "company",
  "secret",
  "cookie",
  "please",
  "qwerty",
  "dragon",
  "monkey",
  "master",
  "horse",
  "staple",
  "admin",
  "login",
  "super",
  "token",
  "local",
  "hello",
  "world",
  "string",
  "random",
  "test",
  "prod",
  "auth",
  "pass",
  "very",
  "long",
  "key",
  "the",
  "for",
  "and",
  "my",
].sort((a, b) => b.length - a.length);

/** The shortest period of `text`: "abcabcab" has 3, a text that never repeats has its own length. */
function shortestPeriod(text: string): number {
  for (let period = 1; period < text.length; period++) {
    let repeats = true;
    for (let i = period; i < text.length && repeats; i++) repeats = text[i] === text[i - period];
    if (repeats) return period;
  }
  return text.length;
}

/** What is left of `text` once every common word and every separator between words is taken out. */
function besideCommonWords(text: string): string {
  let rest = text.toLowerCase();
  for (const word of COMMON_WORDS) rest = rest.split(word).join(" ");
  return rest.replace(/[\s\-_.,:;!]/g, "");
}

export function weakSecretReason(secret: string): string | null {
  const period = shortestPeriod(secret);
  if (period === 1) return "it is one character repeated";
  if (period <= secret.length / 2) return "it is a short pattern repeated";
  if (new Set(secret).size < MIN_DISTINCT_CHARACTERS) return "it repeats too few different characters";
  if (besideCommonWords(secret).length < MIN_CHARACTERS_BESIDE_WORDS) return "it is made of common words";
  return null;
}
