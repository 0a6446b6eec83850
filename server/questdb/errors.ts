import { BrokenCircuitError, BulkheadRejectedError, TaskCancelledError, isBrokenCircuitError } from "cockatiel";

/**
 * Classifies a failure (connection vs. query) and describes it in words that are never empty.
 * The incident this product answers logged `"error": ""`: Node's happy-eyeballs connect error is
 * an AggregateError whose own message is empty, so the words come from its inner errors.
 */

export type FailureKind =
  | "connection_refused"
  | "connection_reset"
  | "connection_timeout"
  | "host_unreachable"
  | "connection_terminated"
  | "connection_failed"
  | "breaker_open"
  | "pool_busy"
  | "deadline_exceeded"
  | "query_failed";

export interface FailureInfo {
  kind: FailureKind;
  /** True for every kind that means "QuestDB could not be reached": retried and counted by the breaker. */
  isConnectionFailure: boolean;
  /** The cause in words, e.g. "connection refused (127.0.0.1:8812)". Never empty. */
  cause: string;
  /** The error's class name, or "unknown" for a thrown non-Error. */
  errorType: string;
  code?: string;
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
    super(`timed out after ${timeoutMs} ms`);
    this.name = "AttemptTimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

const REFUSED_CODES = new Set(["ECONNREFUSED"]);
const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);
const TIMEOUT_CODES = new Set(["ETIMEDOUT", "ESOCKETTIMEDOUT"]);
const UNREACHABLE_CODES = new Set(["EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EHOSTDOWN", "ENETDOWN"]);
// PostgreSQL SQLSTATE: class 08 (connection exception), 57P01 admin shutdown, 57P02 crash shutdown,
// 57P03 cannot connect now.
const PG_CONNECTION_STATES = /^(08...|57P0[123])$/;

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

const TIMEOUT_TEXT = /timeout|timed out/i;
const TERMINATED_TEXT =
  /connection terminated|terminating connection|server closed the connection|not queryable|socket hang up|Connection ended|the database system is (starting up|shutting down)/i;

/** The inner errors of an AggregateError (or anything with an `errors` array). */
function innerErrors(error: ErrorLike): unknown[] {
  return Array.isArray(error.errors) ? error.errors : [];
}

export function classifyFailure(error: unknown, endpoint?: string): FailureInfo {
  const e = asErrorLike(error);
  const errorType = typeOf(error);
  const code = codeOf(e);
  const where = endpointOf(e) ?? endpoint;
  const at = where ? ` (${where})` : "";

  if (error instanceof BreakerOpenError) {
    const last = error.lastFailure === undefined ? null : classifyFailure(error.lastFailure, endpoint);
    const after = last && last.kind !== "breaker_open" ? ` after ${last.cause}` : `${at}`;
    return { kind: "breaker_open", isConnectionFailure: true, cause: `circuit breaker open${after}`, errorType, code };
  }
  if (error instanceof BrokenCircuitError || isBrokenCircuitError(error as Error)) {
    return { kind: "breaker_open", isConnectionFailure: true, cause: `circuit breaker open${at}`, errorType, code };
  }
  if (error instanceof BulkheadRejectedError) {
    // Too many queries already waiting for a connection: QuestDB is not known to be down, but this
    // caller cannot be served now, so it is answered like an unavailable QuestDB (cache first).
    return { kind: "pool_busy", isConnectionFailure: true, cause: `too many queries waiting for a connection${at}`, errorType, code };
  }
  if (error instanceof DeadlineExceededError) {
    return { kind: "deadline_exceeded", isConnectionFailure: true, cause: `${error.message}${at}`, errorType, code };
  }
  if (error instanceof AttemptTimeoutError) {
    return { kind: "connection_timeout", isConnectionFailure: true, cause: `${error.message}${at}`, errorType, code };
  }
  if (error instanceof TaskCancelledError) {
    return { kind: "connection_timeout", isConnectionFailure: true, cause: `attempt cancelled${at}`, errorType, code };
  }

  // Happy-eyeballs: one AggregateError for several addresses. Classify and describe by its parts.
  const inner = innerErrors(e);
  if (inner.length > 0) {
    const parts = inner.map((part) => classifyFailure(part, endpoint));
    const first = parts.find((p) => p.isConnectionFailure) ?? parts[0]!;
    const causes = [...new Set(parts.map((p) => p.cause))];
    return { ...first, cause: causes.join("; "), errorType, code: code ?? first.code };
  }

  if (code && REFUSED_CODES.has(code)) {
    return { kind: "connection_refused", isConnectionFailure: true, cause: `connection refused${at}`, errorType, code };
  }
  if (code && RESET_CODES.has(code)) {
    return { kind: "connection_reset", isConnectionFailure: true, cause: `connection reset by peer${at}`, errorType, code };
  }
  if (code && TIMEOUT_CODES.has(code)) {
    return { kind: "connection_timeout", isConnectionFailure: true, cause: `connection timed out${at}`, errorType, code };
  }
  if (code && UNREACHABLE_CODES.has(code)) {
    const what = code === "ENOTFOUND" || code === "EAI_AGAIN" ? "host name not resolved" : "host unreachable";
    return { kind: "host_unreachable", isConnectionFailure: true, cause: `${what}${at}`, errorType, code };
  }

  const message = textOf(e.message);
  if (code && PG_CONNECTION_STATES.test(code)) {
    return {
      kind: "connection_failed",
      isConnectionFailure: true,
      cause: `${message || "connection rejected by the server"} [SQLSTATE ${code}]${at}`,
      errorType,
      code,
    };
  }
  // A pg DatabaseError carries a severity: the server answered, so the query itself failed.
  const fromServer = typeof e.severity === "string";
  if (!fromServer && message && TIMEOUT_TEXT.test(message)) {
    return { kind: "connection_timeout", isConnectionFailure: true, cause: `${message}${at}`, errorType, code };
  }
  if (!fromServer && message && TERMINATED_TEXT.test(message)) {
    return { kind: "connection_terminated", isConnectionFailure: true, cause: `${message}${at}`, errorType, code };
  }
  if (!fromServer && e.cause !== undefined && e.cause !== error) {
    const nested = classifyFailure(e.cause, endpoint);
    if (nested.isConnectionFailure) return { ...nested, errorType };
  }

  const words = message || (code ? `${errorType} ${code}` : `${errorType} with no message`);
  return { kind: "query_failed", isConnectionFailure: false, cause: `query failed: ${words}`, errorType, code };
}

/** Replaces every secret (the connection password) in a text; secrets shorter than 3 characters are too common to replace safely by themselves and are matched only inside URLs. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi, "$1***@");
  for (const secret of secrets) {
    if (secret.length >= 3) out = out.split(secret).join("***");
  }
  return out;
}

export interface DescribeOptions {
  /** host:port of the endpoint, used when the error itself names none. */
  endpoint?: string;
  /** Values that must never appear in the text, such as the connection password. */
  secrets?: readonly string[];
}

/**
 * "Failed to get active sessions: connection refused (127.0.0.1:8812)". Never empty, never the password.
 */
export function describeFailure(operation: string, error: unknown, options: DescribeOptions = {}): string {
  const { cause } = classifyFailure(error, options.endpoint);
  const text = `Failed to ${operation.trim() || "query QuestDB"}: ${cause || "unknown error"}`;
  return redactSecrets(text, options.secrets ?? []);
}
