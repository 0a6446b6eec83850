import { BrokenCircuitError, BulkheadRejectedError, TaskCancelledError, isBrokenCircuitError } from "cockatiel";
import { redactSecrets } from "@/server/lib/redact";
import type { FailureReason } from "@/contract/answer";

/**
 * Classifies a failure (connection vs. query) and describes it in words that are never empty.
 * The incident this product answers logged `"error": ""`: Node's happy-eyeballs connect error is
 * an AggregateError whose own message is empty, so the words come from its inner errors.
 * Each failure is classified once: the pool wraps what pg throws in a `ClassifiedError`, and every
 * later reader (retry, breaker, resilient query, logs) takes the classification from it.
 */

/** How a failed query is counted in `questdb_query_duration_seconds{outcome}`. */
export type QueryOutcome =
  | "ok"
  | "connection_failure"
  | "query_failure"
  | "timeout"
  | "slow_call"
  | "breaker_open"
  | "pool_busy";

/** The union's `reason` for a failure: what the caller is told. */
export type { FailureReason };

interface KindTraits {
  /** What the caller is told; all but `query_failed` are answered from the cache when it can. */
  reason: FailureReason;
  /** Tried again: always, at most once (a slow call), or never. */
  retry: "always" | "once" | "never";
  /** Which breaker counts it: the endpoint's (QuestDB unreachable), the operation's (slow), or none. */
  counts: "endpoint" | "operation" | null;
  outcome: Exclude<QueryOutcome, "ok">;
}

const UNREACHABLE: KindTraits = {
  reason: "database_unavailable",
  retry: "always",
  counts: "endpoint",
  outcome: "connection_failure",
};

/** Every kind of failure and what follows from it. */
export const FAILURE_KINDS = {
  connection_refused: UNREACHABLE,
  connection_reset: UNREACHABLE,
  host_unreachable: UNREACHABLE,
  connection_terminated: UNREACHABLE,
  connection_failed: UNREACHABLE,
  // No answer within the attempt limit and QuestDB did not answer a probe either.
  connection_timeout: { ...UNREACHABLE, outcome: "timeout" },
  // Retrying the same password cannot help; the cached data can.
  credentials_rejected: {
    reason: "database_unavailable",
    retry: "never",
    counts: "endpoint",
    outcome: "connection_failure",
  },
  // No answer within the attempt limit while QuestDB answers other queries: this query is slow.
  slow_call: { reason: "query_slow", retry: "once", counts: "operation", outcome: "slow_call" },
  operation_open: { reason: "query_slow", retry: "never", counts: null, outcome: "breaker_open" },
  breaker_open: { reason: "database_unavailable", retry: "never", counts: null, outcome: "breaker_open" },
  // The app's own queue is full or was waited on too long: nothing is known about QuestDB.
  pool_busy: { reason: "busy", retry: "never", counts: null, outcome: "pool_busy" },
  deadline_exceeded: { reason: "database_unavailable", retry: "never", counts: null, outcome: "timeout" },
  // The caller's time ran out while QuestDB kept answering other queries.
  deadline_slow: { reason: "query_slow", retry: "never", counts: null, outcome: "timeout" },
  query_failed: { reason: "query_failed", retry: "never", counts: null, outcome: "query_failure" },
} as const satisfies Record<string, KindTraits>;

export type FailureKind = keyof typeof FAILURE_KINDS;

export interface FailureInfo {
  kind: FailureKind;
  /** The cause in words, e.g. "connection refused (127.0.0.1:8812)". Never empty, never a secret. */
  cause: string;
  /** The error's class name, or "unknown" for a thrown non-Error. */
  errorType: string;
  code?: string;
}

export function traitsOf(failure: FailureInfo | FailureKind): KindTraits {
  return FAILURE_KINDS[typeof failure === "string" ? failure : failure.kind];
}

/** QuestDB could not be reached (or would not let us in): the endpoint's breaker counts it. */
export function isConnectionFailure(failure: FailureInfo | FailureKind): boolean {
  return traitsOf(failure).counts === "endpoint";
}

/** Thrown to a caller whose deadline passed while the attempt goes on in the background. */
export class DeadlineExceededError extends Error {
  readonly deadlineMs: number;
  /** Whether QuestDB answered other queries meanwhile: then this query is slow, not QuestDB down. */
  readonly questdbAnswering: boolean;
  constructor(deadlineMs: number, questdbAnswering = false) {
    super(
      questdbAnswering
        ? `no answer within ${deadlineMs} ms while QuestDB answers other queries`
        : `no answer within the ${deadlineMs} ms deadline`,
    );
    this.name = "DeadlineExceededError";
    this.deadlineMs = deadlineMs;
    this.questdbAnswering = questdbAnswering;
  }
}

/** The breaker is open: fail fast. Carries the failure that opened it, so the words keep the cause. */
export class BreakerOpenError extends Error {
  readonly lastFailure: unknown;
  constructor(lastFailure: unknown) {
    super("circuit breaker open");
    this.name = "BreakerOpenError";
    this.lastFailure = lastFailure;
  }
}

/** Thrown by the policy's per-attempt limit (connect included). */
export class AttemptTimeoutError extends Error {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`attempt timed out after ${timeoutMs} ms`);
    this.name = "AttemptTimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

/**
 * An attempt ran out of time while QuestDB answered other queries (or a probe): this query is
 * slow, QuestDB is not down. Counted by the operation's breaker, never by the endpoint's.
 */
export class SlowCallError extends Error {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms while QuestDB answers other queries`);
    this.name = "SlowCallError";
    this.timeoutMs = timeoutMs;
  }
}

/** This operation's own breaker is open: it was slow too often lately. QuestDB itself is fine. */
export class OperationOpenError extends Error {
  readonly lastFailure: unknown;
  constructor(
    readonly operation: string,
    lastFailure: unknown,
  ) {
    super(`${operation} breaker open`);
    this.name = "OperationOpenError";
    this.lastFailure = lastFailure;
  }
}

/** Another instance of the fleet opened its breaker; `cause` is the failure it saw, in words. */
export class FleetBreakerError extends Error {
  constructor(readonly remoteCause: string) {
    super(`another instance: ${remoteCause}`);
    this.name = "FleetBreakerError";
  }
}

/** No connection could be had in time: the app's own queue, not QuestDB. */
export class PoolBusyError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = "PoolBusyError";
  }
}

/** A failure already classified: its message is the cause, the original error is its `cause`. */
export class ClassifiedError extends Error {
  readonly failure: FailureInfo;
  /** Not to be tried again, whatever its kind says (a slow call's second time). */
  readonly final: boolean;
  constructor(failure: FailureInfo, original: unknown, opts: { final?: boolean } = {}) {
    super(failure.cause, { cause: original });
    this.name = "ClassifiedError";
    this.failure = failure;
    this.final = opts.final ?? false;
  }
}

/** System error codes by what they mean: the kind, and the words for it. */
const SYSTEM_CODE_GROUPS: ReadonlyArray<{ kind: FailureKind; words: string; codes: readonly string[] }> = [
  { kind: "connection_refused", words: "connection refused", codes: ["ECONNREFUSED"] },
  { kind: "connection_reset", words: "connection reset by peer", codes: ["ECONNRESET", "EPIPE", "ECONNABORTED"] },
  { kind: "connection_reset", words: "connection reset by the network", codes: ["ENETRESET"] },
  {
    kind: "connection_terminated",
    words: "connection closed while in use",
    codes: ["ERR_STREAM_DESTROYED", "ERR_SOCKET_CLOSED"],
  },
  { kind: "connection_timeout", words: "connection timed out", codes: ["ETIMEDOUT", "ESOCKETTIMEDOUT"] },
  {
    kind: "host_unreachable",
    words: "host unreachable",
    codes: ["EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENETDOWN"],
  },
  { kind: "host_unreachable", words: "address not available", codes: ["EADDRNOTAVAIL"] },
  { kind: "host_unreachable", words: "host name not resolved", codes: ["ENOTFOUND", "EAI_AGAIN"] },
];
const SYSTEM_CODES = new Map(
  SYSTEM_CODE_GROUPS.flatMap(({ kind, words, codes }) => codes.map((code) => [code, { kind, words }] as const)),
);
/** PostgreSQL SQLSTATEs that mean the server would not serve this connection. */
function serverStateKind(code: string): { kind: FailureKind; words?: string } | undefined {
  if (code === "28P01" || code === "28000") return { kind: "credentials_rejected", words: "credentials rejected" };
  if (code === "53300") return { kind: "connection_failed", words: "too many connections" };
  // Class 08 (connection exception), 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now.
  if (/^(08...|57P0[123])$/.test(code)) return { kind: "connection_failed" };
  return undefined;
}
// QuestDB answers every error with SQLSTATE 00000 (no code to go by): these are told by their words.
const QUESTDB_TEXTS: ReadonlyArray<{ pattern: RegExp; kind: FailureKind; words: string }> = [
  {
    pattern: /invalid username\/password|password authentication failed/i,
    kind: "credentials_rejected",
    words: "credentials rejected",
  },
  { pattern: /timeout, query aborted/i, kind: "slow_call", words: "query slow" },
];
// What pg raises on the client side with no code at all: matched by its own words, and only then.
const CLIENT_TEXTS: ReadonlyArray<{ pattern: RegExp; kind: FailureKind }> = [
  {
    pattern: /timeout exceeded when trying to connect|connection timeout|timeout expired|Query read timeout/i,
    kind: "connection_timeout",
  },
  {
    pattern: new RegExp(
      [
        "connection terminated",
        "terminating connection",
        "server closed the connection",
        "not queryable",
        "socket hang up",
        "Connection ended",
        "the database system is (starting up|shutting down)",
      ].join("|"),
      "i",
    ),
    kind: "connection_terminated",
  },
];

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  address?: unknown;
  port?: unknown;
  errors?: unknown;
  severity?: unknown;
  cause?: unknown;
}

function asErrorLike(value: unknown): ErrorLike {
  return typeof value === "object" && value !== null ? (value as ErrorLike) : {};
}

function textOf(value: unknown): string {
  return typeof value === "string" ? value.trim() : "";
}

function codeOf(error: ErrorLike): string | undefined {
  const code = error.code;
  return typeof code === "string" && code !== "" ? code : undefined;
}

function endpointOf(error: ErrorLike): string | undefined {
  const address = textOf(error.address);
  if (!address) return undefined;
  return typeof error.port === "number" ? `${address}:${error.port}` : address;
}

// Class names are minified in a production build: name the ones we classify by hand.
function typeOf(error: unknown): string {
  if (error instanceof BrokenCircuitError) return "BrokenCircuitError";
  if (error instanceof BulkheadRejectedError) return "BulkheadRejectedError";
  if (error instanceof TaskCancelledError) return "TaskCancelledError";
  if (error instanceof Error) {
    if (error.name && error.name !== "Error") return error.name;
    const ctor = error.constructor?.name;
    return ctor && ctor.length > 2 ? ctor : "Error";
  }
  if (error === null || error === undefined) return String(error);
  return typeof error;
}

export interface ClassifyOptions {
  /** host:port of the endpoint, used when the error itself names none. */
  endpoint?: string;
  /** Values that must never appear in the text, such as the connection password. */
  secrets?: readonly string[];
}

/** The failures the policy itself raises: no need to look further. */
function policyFailure(error: unknown, at: string, options: ClassifyOptions): Omit<FailureInfo, "errorType"> | null {
  if (error instanceof BreakerOpenError) {
    const last = error.lastFailure === undefined ? null : classifyFailure(error.lastFailure, options);
    return {
      kind: "breaker_open",
      cause:
        last && last.kind !== "breaker_open" ? `circuit breaker open after ${last.cause}` : `circuit breaker open${at}`,
    };
  }
  if (error instanceof BrokenCircuitError || isBrokenCircuitError(error as Error))
    return { kind: "breaker_open", cause: `circuit breaker open${at}` };
  if (error instanceof BulkheadRejectedError)
    return { kind: "pool_busy", cause: `too many queries waiting for a connection${at}` };
  if (error instanceof FleetBreakerError)
    return { kind: "connection_failed", cause: `${error.remoteCause}, seen by another instance` };
  if (error instanceof PoolBusyError) return { kind: "pool_busy", cause: `${error.message}${at}` };
  if (error instanceof SlowCallError) return { kind: "slow_call", cause: `query slow: ${error.message}` };
  if (error instanceof OperationOpenError) {
    const last = error.lastFailure === undefined ? null : classifyFailure(error.lastFailure, options);
    const after = last ? ` (${last.cause.replace(/^query slow: /, "")})` : "";
    return { kind: "operation_open", cause: `query slow: paused after repeated slow answers${after}` };
  }
  if (error instanceof DeadlineExceededError) {
    return error.questdbAnswering
      ? { kind: "deadline_slow", cause: `query slow: ${error.message}` }
      : { kind: "deadline_exceeded", cause: `${error.message}${at}` };
  }
  if (error instanceof AttemptTimeoutError) return { kind: "connection_timeout", cause: `${error.message}${at}` };
  if (error instanceof TaskCancelledError) return { kind: "connection_timeout", cause: `attempt cancelled${at}` };
  return null;
}

function classifyUnredacted(error: unknown, options: ClassifyOptions): FailureInfo {
  if (error instanceof ClassifiedError) return error.failure;
  const e = asErrorLike(error);
  const errorType = typeOf(error);
  const code = codeOf(e);
  const where = endpointOf(e) ?? options.endpoint;
  const at = where ? ` (${where})` : "";

  const fromPolicy = policyFailure(error, at, options);
  if (fromPolicy) return { ...fromPolicy, errorType, code };

  // Happy-eyeballs: one AggregateError for several addresses. Classified by its parts: a
  // connection failure if any part is one, and described by all of them.
  const inner = Array.isArray(e.errors) ? (e.errors as unknown[]) : [];
  if (inner.length > 0) {
    const parts = inner.map((part) => classifyUnredacted(part, options));
    const first = parts.find((p) => isConnectionFailure(p)) ?? parts[0]!;
    return { ...first, cause: [...new Set(parts.map((p) => p.cause))].join("; "), errorType, code: code ?? first.code };
  }

  const system = code ? SYSTEM_CODES.get(code) : undefined;
  if (system) return { kind: system.kind, cause: `${system.words}${at}`, errorType, code };

  const message = textOf(e.message);
  const serverState = code ? serverStateKind(code) : undefined;
  if (serverState) {
    const words = serverState.words ? `${serverState.words}: ` : "";
    return {
      kind: serverState.kind,
      cause: `${words}${message || "connection rejected by the server"} [SQLSTATE ${code}]${at}`,
      errorType,
      code,
    };
  }
  // A pg DatabaseError carries a severity: the server answered, so the query itself failed…
  const fromServer = typeof e.severity === "string";
  if (fromServer && (!code || code === "00000")) {
    // …unless QuestDB's words say otherwise.
    const said = message ? QUESTDB_TEXTS.find((row) => row.pattern.test(message)) : undefined;
    if (said) return { kind: said.kind, cause: `${said.words}: ${message}${at}`, errorType, code };
  }
  if (!fromServer && !code) {
    const matched = message ? CLIENT_TEXTS.find((row) => row.pattern.test(message)) : undefined;
    if (matched) return { kind: matched.kind, cause: `${message}${at}`, errorType, code };
    if (e.cause !== undefined && e.cause !== error) {
      const nested = classifyUnredacted(e.cause, options);
      if (isConnectionFailure(nested)) return { ...nested, errorType };
    }
  }
  const words = message || (code ? `${errorType} ${code}` : `${errorType} with no message`);
  return { kind: "query_failed", cause: `query failed: ${words}`, errorType, code };
}

/** What kind of failure `error` is, and its cause in words (secrets removed, never empty). */
export function classifyFailure(error: unknown, options: ClassifyOptions = {}): FailureInfo {
  if (error instanceof ClassifiedError) return error.failure;
  const info = classifyUnredacted(error, options);
  return { ...info, cause: redactSecrets(info.cause || "unknown error", options.secrets) };
}

/**
 * The classification a failure carries: what every reader (retry, breakers, resilient query) asks.
 * Each failure about QuestDB is classified where it is raised — the pool for what pg and the
 * network throw, the policy for its open breakers, the latency budget for a passed deadline — so
 * this only reads it. Anything else (a row mapper's bug, a test's stand-in) is classified here.
 */
export function failureOf(error: unknown): FailureInfo {
  return error instanceof ClassifiedError ? error.failure : classifyFailure(error);
}

/** The error, classified once: later readers take the classification from it. */
export function toClassifiedError(error: unknown, options: ClassifyOptions = {}): ClassifiedError {
  return error instanceof ClassifiedError ? error : new ClassifiedError(classifyFailure(error, options), error);
}

/** "Failed to get active sessions: connection refused (127.0.0.1:8812)". */
export function failureMessage(operation: string, failure: FailureInfo): string {
  return `Failed to ${operation.trim() || "query QuestDB"}: ${failure.cause}`;
}

/** The message for `error`: never empty, never the password. */
export function describeFailure(operation: string, error: unknown, options: ClassifyOptions = {}): string {
  return failureMessage(operation, classifyFailure(error, options));
}
