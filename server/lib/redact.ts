/**
 * The one redactor: the password of any URL in a text (`scheme://user:password@host`), and every
 * given secret wherever it stands. Secrets shorter than 3 characters are too common to replace on
 * their own and are caught only inside URLs.
 */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, "$1***@");
  for (const secret of secrets) {
    if (secret.length >= 3) out = out.split(secret).join("***");
  }
  return out;
}
