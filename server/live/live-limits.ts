/**
 * The bounds on live work, as one error kind: a client cannot open streams without end, and an
 * instance cannot run topics without end (each topic is a loop of QuestDB queries). The router
 * turns it into tRPC's TOO_MANY_REQUESTS with this message, which the page shows.
 */

export class LiveLimitError extends Error {
  readonly limit: "streams" | "topics";

  constructor(limit: "streams" | "topics", message: string) {
    super(message);
    this.name = "LiveLimitError";
    this.limit = limit;
  }
}

/**
 * By name, not `instanceof`: Next.js bundles the instrumentation hook (which builds the live topics)
 * apart from the route handlers, so the class thrown and the class a router checks against may be
 * two copies of this module — and a refusal would reach the client as a 500.
 */
export function isLiveLimitError(error: unknown): error is LiveLimitError {
  return error instanceof Error && error.name === "LiveLimitError" && "limit" in error;
}

/** `holder` is `session:…` or `client:<address>`: the message says which without the session's id. */
export function tooManyStreams(max: number, holder: string): LiveLimitError {
  const who = holder.startsWith("session:") ? "this session" : "this client address";
  return new LiveLimitError(
    "streams",
    `Too many live streams: ${who} already has ${max} open (LIVE_MAX_STREAMS_PER_CLIENT=${max}); ` +
      "close a tab or wait for one to end",
  );
}

export function tooManyTopics(max: number): LiveLimitError {
  return new LiveLimitError(
    "topics",
    `Too many live topics: this instance already runs ${max} (LIVE_MAX_TOPICS=${max}); try again later`,
  );
}
