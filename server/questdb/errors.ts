import { BrokenCircuitError, BulkheadRejectedError, TaskCancelledError, isBrokenCircuitError } from "cockatiel";
import { redactSecrets } from "../lib/redact";

/**
 * Classifies a failure (connection vs. query) and describes it in words that are never empty.
 * The incident this product answers logged `"error": ""`: Node's happy-eyeballs connect error is
 * an AggregateError whose own message is empty, so the words come from its inner errors.
 * Each failure is classified once: the pool wraps what pg throws in a `ClassifiedError`, and every
 * later reader (retry, breaker, resilient query, logs) takes the classification from it.
 */

/** How a failed query is counted in `questdb_query_duration_seconds{outcome}`. */
export type QueryOutcome = "ok" | "connection_failure" | "query_failure" | "timeout" | "breaker_open" | "pool_busy";

interface KindTraits {
  /** "QuestDB could not be reached": retried, counted by the breaker, answered from the cache. */
  connectionFailure: boolean;
  outcome: Exclude<QueryOutcome, "ok">;
}

/** Every kind of failure and what follows from it. */
export const FAILURE_KINDS = {
  connection_refused: { connectionFailure: true, outcome: "connection_failure" },
  connection_reset: { connectionFailure: true, outcome: "connection_failure" },
  connection_timeout: { connectionFailure: true, outcome: "timeout" },
  host_unreachable: { connectionFailure: true, outcome: "connection_failure" },
  connection_terminated: { connectionFailure: true, outcome: "connection_failure" },
  connection_failed: { connectionFailure: true, outcome: "connection_failure" },
  breaker_open: { connectionFailure: true, outcome: "breaker_open" },
  // Too many queries already waiting for a connection: QuestDB is not known to be down, but this
  // caller cannot be served now, so it is answered like an unavailable QuestDB (cache first).
  pool_busy: { connectionFailure: true, outcome: "pool_busy" },
  deadline_exceeded: { connectionFailure: true, outcome: "timeout" },
  query_failed: { connectionFailure: false, outcome: "query_failure" },
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

export function isConnectionFailure(failure: FailureInfo | FailureKind): boolean {
  return FAILURE_KINDS[typeof failure === "string" ? failure : failure.kind].connectionFailure;
}

/** Thrown to a caller whose deadline passed while the attempt goes on in the background. */
export class DeadlineExceededError extends Error {
  readonly deadlineMs: number;
  constructor(deadlineMs: number) {
    super(`no answer within the ${deadlineMs} ms deadline`);
    this.name = "DeadlineExceededError";
    this.deadlineMs = deadlineMs;
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

/** A failure already classified: its message is the cause, the original error is its `cause`. */
export class ClassifiedError extends Error {
  readonly failure: FailureInfo;
  constructor(failure: FailureInfo, original: unknown) {
    super(failure.cause, { cause: original });
    this.name = "ClassifiedError";
    this.failure = failure;
  }
}

/** System error codes by what they mean: the kind, and the words for it. */
const SYSTEM_CODE_GROUPS: ReadonlyArray<{ kind: FailureKind; words: string; codes: readonly string[] }> = [
  { kind: "connection_refused", words: "connection refused", codes: ["ECONNREFUSED"] },
  { kind: "connection_reset", words: "connection reset by peer", codes: ["ECONNRESET", "EPIPE", "ECONNABORTED"] },
  { kind: "connection_timeout", words: "connection timed out", codes: ["ETIMEDOUT", "ESOCKETTIMEDOUT"] },
  { kind: "host_unreachable", words: "host unreachable", codes: ["EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENETDOWN"] },
  { kind: "host_unreachable", words: "host name not resolved", codes: ["ENOTFOUND", "EAI_AGAIN"] },
];
const SYSTEM_CODES = new Map(SYSTEM_CODE_GROUPS.flatMap(({ kind, words, codes }) => codes.map((code) => [code, { kind, words }] as const)));
// PostgreSQL SQLSTATE: class 08 (connection exception), 57P01 admin shutdown, 57P02 crash shutdown,
// 57P03 cannot connect now.
const PG_CONNECTION_STATES = /^(08...|57P0[123])$/;
// Errors that pg raises on the client side without a code: matched by their text.
const CLIENT_TEXTS: ReadonlyArray<{ pattern: RegExp; kind: FailureKind }> = [
  { pattern: /timeout|timed out/i, kind: "connection_timeout" },
  {
    pattern:
      /connection terminated|terminating connection|server closed the connection|not queryable|socket hang up|Connection ended|the database system is (starting up|shutting down)/i,
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
    return { kind: "breaker_open", cause: last && last.kind !== "breaker_open" ? `circuit breaker open after ${last.cause}` : `circuit breaker open${at}` };
  }
  if (error instanceof BrokenCircuitError || isBrokenCircuitError(error as Error)) return { kind: "breaker_open", cause: `circuit breaker open${at}` };
  if (error instanceof BulkheadRejectedError) return { kind: "pool_busy", cause: `too many queries waiting for a connection${at}` };
  if (error instanceof DeadlineExceededError) return { kind: "deadline_exceeded", cause: `${error.message}${at}` };
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
  if (code && PG_CONNECTION_STATES.test(code)) {
    return { kind: "connection_failed", cause: `${message || "connection rejected by the server"} [SQLSTATE ${code}]${at}`, errorType, code };
  }
  // A pg DatabaseError carries a severity: the server answered, so the query itself failed.
  const fromServer = typeof e.severity === "string";
  if (!fromServer) {
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
