/** A non-empty one-line description of any error (undici's AggregateErrors have empty messages). */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const parts: string[] = [];
    const err = error as Error & { code?: unknown; errors?: unknown[]; cause?: unknown };
    if (err.message) parts.push(err.message);
    else if (typeof err.code === "string") parts.push(err.code);
    if (Array.isArray(err.errors) && err.errors.length > 0 && !err.message) {
      parts.push(err.errors.map((inner) => describeError(inner)).join("; "));
    }
    if (err.cause !== undefined && err.cause !== error) {
      const cause = describeError(err.cause);
      if (cause && !parts.join(" ").includes(cause)) parts.push(`(cause: ${cause})`);
    }
    const text = parts.join(" ").replace(/\s+/g, " ").trim();
    return text || err.name || "unknown error";
  }
  const text = String(error).trim();
  return text || "unknown error";
}
