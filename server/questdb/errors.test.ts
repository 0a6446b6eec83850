import { BrokenCircuitError, TaskCancelledError } from "cockatiel";
import { DatabaseError } from "pg";
import { describe, expect, it } from "vitest";
import {
  AttemptTimeoutError,
  BreakerOpenError,
  ClassifiedError,
  DeadlineExceededError,
  FAILURE_KINDS,
  classifyFailure,
  describeFailure,
  isConnectionFailure,
  toClassifiedError,
} from "./errors";

function sysError(code: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code, ...extra });
}

function pgError(message: string, code: string): DatabaseError {
  const error = new DatabaseError(message, message.length, "error");
  error.code = code;
  error.severity = "ERROR";
  return error;
}

const OP = "get active sessions";

describe("describeFailure", () => {
  it("describes Node's happy-eyeballs AggregateError, whose own message is empty, by its inner errors", () => {
    const inner = [
      sysError("ECONNREFUSED", "connect ECONNREFUSED ::1:8812", { address: "::1", port: 8812 }),
      sysError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:8812", { address: "127.0.0.1", port: 8812 }),
    ];
    const aggregate = Object.assign(new AggregateError(inner, ""), { code: "ECONNREFUSED" });
    expect(aggregate.message).toBe("");
    const text = describeFailure(OP, aggregate);
    expect(text).toBe(
      "Failed to get active sessions: connection refused (::1:8812); connection refused (127.0.0.1:8812)",
    );
    expect(classifyFailure(aggregate)).toMatchObject({ kind: "connection_refused" });
  });

  it("names refused, reset, timed-out and unreachable connections with the endpoint", () => {
    expect(
      describeFailure(
        OP,
        sysError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:8812", { address: "127.0.0.1", port: 8812 }),
      ),
    ).toBe("Failed to get active sessions: connection refused (127.0.0.1:8812)");
    expect(describeFailure(OP, sysError("ECONNRESET", "read ECONNRESET"), { endpoint: "127.0.0.1:8812" })).toBe(
      "Failed to get active sessions: connection reset by peer (127.0.0.1:8812)",
    );
    expect(describeFailure(OP, sysError("ETIMEDOUT", ""), { endpoint: "10.0.0.1:8812" })).toBe(
      "Failed to get active sessions: connection timed out (10.0.0.1:8812)",
    );
    expect(describeFailure(OP, sysError("EHOSTUNREACH", "connect EHOSTUNREACH"), { endpoint: "h:1" })).toBe(
      "Failed to get active sessions: host unreachable (h:1)",
    );
    expect(describeFailure(OP, sysError("ENOTFOUND", "getaddrinfo ENOTFOUND questdb"))).toBe(
      "Failed to get active sessions: host name not resolved",
    );
  });

  it("classifies pg's own connection messages and timeouts as connection failures", () => {
    for (const message of [
      "Connection terminated unexpectedly",
      "timeout exceeded when trying to connect",
      "Connection terminated due to connection timeout",
      "Query read timeout",
      "Client has encountered a connection error and is not queryable",
    ]) {
      const info = classifyFailure(new Error(message));
      expect(isConnectionFailure(info), message).toBe(true);
      expect(info.cause).toContain(message);
    }
    expect(classifyFailure(new AttemptTimeoutError(2000))).toMatchObject({
      kind: "connection_timeout",
      cause: "attempt timed out after 2000 ms",
    });
    expect(classifyFailure(new TaskCancelledError())).toMatchObject({ kind: "connection_timeout" });
    expect(classifyFailure(new DeadlineExceededError(3000))).toMatchObject({ kind: "deadline_exceeded" });
    expect(classifyFailure(new BrokenCircuitError())).toMatchObject({ kind: "breaker_open" });
  });

  it("treats PostgreSQL 08xxx / 57P01 / 57P03 as connection failures and other SQLSTATEs as query failures", () => {
    expect(isConnectionFailure(classifyFailure(pgError("connection failure", "08006")))).toBe(true);
    expect(
      isConnectionFailure(classifyFailure(pgError("terminating connection due to administrator command", "57P01"))),
    ).toBe(true);
    expect(isConnectionFailure(classifyFailure(pgError("the database system is starting up", "57P03")))).toBe(true);
    const syntax = pgError("table does not exist [table=nope]", "42P01");
    expect(classifyFailure(syntax)).toMatchObject({ kind: "query_failed" });
    expect(describeFailure(OP, syntax)).toBe(
      "Failed to get active sessions: query failed: table does not exist [table=nope]",
    );
    // A server-side error mentioning a timeout is still the query's fault, not the connection's.
    expect(isConnectionFailure(classifyFailure(pgError("timeout, query aborted", "00000")))).toBe(false);
  });

  it("is never empty, whatever was thrown", () => {
    const odd: unknown[] = [
      new Error(""),
      new Error(),
      Object.assign(new Error(""), { code: "EWHATEVER" }),
      "",
      null,
      undefined,
      42,
      {},
      new AggregateError([], ""),
    ];
    for (const thrown of odd) {
      const text = describeFailure(OP, thrown);
      expect(text.startsWith("Failed to get active sessions: ")).toBe(true);
      expect(text.length).toBeGreaterThan("Failed to get active sessions: ".length + 3);
    }
    expect(describeFailure(OP, new Error(""))).toBe(
      "Failed to get active sessions: query failed: Error with no message",
    );
    expect(describeFailure(OP, Object.assign(new Error(""), { code: "EWHATEVER" }))).toBe(
      "Failed to get active sessions: query failed: Error EWHATEVER",
    );
  });

  it("never shows the connection password", () => {
    const secret = "s3cr3t-pa55";
    const errors = [
      new Error(`could not connect to postgresql://admin:${secret}@127.0.0.1:8812/qdb`),
      new Error(`password authentication failed: ${secret}`),
      Object.assign(new AggregateError([new Error(`inner ${secret}`)], ""), {}),
    ];
    for (const error of errors) {
      const text = describeFailure(OP, error, { secrets: [secret] });
      expect(text).not.toContain(secret);
      expect(text).toContain("***");
    }
  });
});

describe("classification table", () => {
  it("says for each kind what the caller is told, whether it is retried and which breaker counts it", () => {
    const rows = Object.fromEntries(
      Object.entries(FAILURE_KINDS).map(([kind, t]) => [
        kind,
        `${t.reason} · retry ${t.retry} · ${t.counts ?? "no breaker"}`,
      ]),
    );
    expect(rows).toEqual({
      connection_refused: "database_unavailable · retry always · endpoint",
      connection_reset: "database_unavailable · retry always · endpoint",
      host_unreachable: "database_unavailable · retry always · endpoint",
      connection_terminated: "database_unavailable · retry always · endpoint",
      connection_failed: "database_unavailable · retry always · endpoint",
      connection_timeout: "database_unavailable · retry always · endpoint",
      credentials_rejected: "database_unavailable · retry never · endpoint",
      slow_call: "query_slow · retry once · operation",
      operation_open: "query_slow · retry never · no breaker",
      breaker_open: "database_unavailable · retry never · no breaker",
      pool_busy: "busy · retry never · no breaker",
      deadline_exceeded: "database_unavailable · retry never · no breaker",
      deadline_slow: "query_slow · retry never · no breaker",
      query_failed: "query_failed · retry never · no breaker",
    });
    for (const kind of Object.keys(FAILURE_KINDS) as Array<keyof typeof FAILURE_KINDS>) {
      expect(isConnectionFailure(kind), kind).toBe(FAILURE_KINDS[kind].counts === "endpoint");
    }
  });

  it("names every system error code by its kind, in words, with the endpoint", () => {
    const byKind: Record<string, string[]> = {
      "connection_refused: connection refused": ["ECONNREFUSED"],
      "connection_reset: connection reset by peer": ["ECONNRESET", "EPIPE", "ECONNABORTED"],
      "connection_timeout: connection timed out": ["ETIMEDOUT", "ESOCKETTIMEDOUT"],
      "host_unreachable: host unreachable": ["EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENETDOWN"],
      "host_unreachable: host name not resolved": ["ENOTFOUND", "EAI_AGAIN"],
    };
    for (const [expected, codes] of Object.entries(byKind)) {
      for (const code of codes) {
        const info = classifyFailure(sysError(code, `x ${code}`), { endpoint: "127.0.0.1:8812" });
        expect(`${info.kind}: ${info.cause}`, code).toBe(`${expected} (127.0.0.1:8812)`);
        expect(info.code).toBe(code);
      }
    }
  });

  it("an AggregateError is a connection failure if any of its parts is one, not by its first part", () => {
    const aggregate = new AggregateError(
      [new Error("weird"), sysError("ECONNREFUSED", "refused", { address: "::1", port: 8812 })],
      "",
    );
    const info = classifyFailure(aggregate);
    expect(info.kind).toBe("connection_refused");
    expect(info.cause).toBe("query failed: weird; connection refused (::1:8812)");
  });

  it("classifies once: a ClassifiedError keeps its classification wherever it is read", () => {
    const original = sysError("ECONNRESET", "read ECONNRESET");
    const once = toClassifiedError(original, { endpoint: "db:8812", secrets: ["pw"] });
    expect(once).toBeInstanceOf(ClassifiedError);
    expect(once.cause).toBe(original);
    expect(once.message).toBe("connection reset by peer (db:8812)");
    expect(toClassifiedError(once)).toBe(once);
    expect(classifyFailure(once, { endpoint: "other:1" })).toBe(once.failure);
  });

  it("a breaker opened by a timed-out attempt names the timeout, not the cancellation", () => {
    expect(classifyFailure(new BreakerOpenError(new AttemptTimeoutError(2000))).cause).toBe(
      "circuit breaker open after attempt timed out after 2000 ms",
    );
  });
});

describe("QuestDB's own answers (SQLSTATE 00000 for everything)", () => {
  it("tells each server answer by its code, or by QuestDB's words when the code is 00000", () => {
    const rows: Array<[code: string, message: string, kind: string]> = [
      ["00000", "invalid username/password", "credentials_rejected"],
      ["00000", "timeout, query aborted [fd=12, runtime=3011ms, timeout=3000ms]", "slow_call"],
      ["00000", "table does not exist [table=nope]", "query_failed"],
      ["00000", "cancelled by user [fd=7]", "query_failed"],
      ["53300", "too many connections", "connection_failed"],
      ["28P01", "password authentication failed", "credentials_rejected"],
      ["28000", "role does not exist", "credentials_rejected"],
      ["57P03", "the database system is starting up", "connection_failed"],
    ];
    for (const [code, message, kind] of rows)
      expect(classifyFailure(pgError(message, code), { endpoint: "q:8812" }).kind, message).toBe(kind);
    expect(classifyFailure(pgError("invalid username/password", "00000"), { endpoint: "q:8812" }).cause).toBe(
      "credentials rejected: invalid username/password (q:8812)",
    );
    expect(classifyFailure(pgError("cancelled by user [fd=7]", "00000")).cause).toBe(
      "query failed: cancelled by user [fd=7]",
    );
  });

  it("text decides only for errors without a real code: a client error that mentions a timeout is not a connection failure by its words alone", () => {
    expect(classifyFailure(Object.assign(new Error("upstream timeout in parser"), { code: "ERR_PARSER" })).kind).toBe(
      "query_failed",
    );
    expect(classifyFailure(new Error("timeout exceeded when trying to connect")).kind).toBe("connection_timeout");
    expect(classifyFailure(new Error("timeout expired")).kind).toBe("connection_timeout");
    expect(classifyFailure(new Error("my own timeout")).kind).toBe("query_failed");
  });

  it.each(["EADDRNOTAVAIL", "ENETRESET", "ENETUNREACH", "ERR_STREAM_DESTROYED", "ERR_SOCKET_CLOSED"])(
    "%s is a connection failure",
    (code) => {
      expect(isConnectionFailure(classifyFailure(sysError(code, "")))).toBe(true);
    },
  );
});
