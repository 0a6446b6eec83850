import { rmSync } from "node:fs";
import { Writable } from "node:stream";
import pino from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll, expect, it } from "vitest";
import { findFreePort, startTestQuestdb, type QuestdbProcess } from "@/harness/questdb-process";
import { eventually } from "@/harness/eventually";
import { parseEnv } from "@/server/env";
import { createCaller } from "@/server/root";
import { createContextInner } from "@/server/trpc";
import { createQuestdbService } from "@/server/compose";
import { REDACT_PATHS } from "./logger";
import { createMetrics } from "./metrics";

/**
 * Forces every kind of failure with a password in QUESTDB_URL — refused connections, a real
 * QuestDB rejecting the login, bad queries — and scans every log line and every answer: the
 * password never appears, and no `error` or `message` field is empty.
 */

const PASSWORD = "S3cr3t-Pa55w0rd";
let questdb: QuestdbProcess;

beforeAll(async () => {
  questdb = await startTestQuestdb();
});
afterAll(async () => {
  await questdb?.stop();
  if (questdb) rmSync(questdb.dataDir, { recursive: true, force: true });
});

it("never logs or answers the connection password, and never an empty error", async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  const log = pino({ level: "debug", messageKey: "message", redact: { paths: REDACT_PATHS, censor: "***" } }, sink);
  const answers: unknown[] = [];

  const closedPort = await findFreePort();
  for (const url of [
    `postgresql://admin:${PASSWORD}@127.0.0.1:${closedPort}/qdb`, // refused
    `postgresql://admin:${PASSWORD}@127.0.0.1:${questdb.pgPort}/qdb`, // QuestDB rejects the password
  ]) {
    const service = createQuestdbService(
      parseEnv({
        QUESTDB_URL: url,
        QUESTDB_HEALTH_INTERVAL_MS: "100",
        QUESTDB_RETRY_DELAYS_MS: "10,10,10",
        QUESTDB_BREAKER_THRESHOLD: "3",
      }),
      { log, metrics: createMetrics(new Registry()), dataDir: null },
    );
    const api = createCaller(createContextInner({ questdb: service }));
    for (let i = 0; i < 5; i++) {
      answers.push(await api.sessions.active({ limit: i + 1 }));
      answers.push(await api.market.candles({ symbol: "BTC-USD", interval: "1m", limit: i + 1 }));
    }
    answers.push(service.health());
    await eventually(() => lines.some((l) => l.includes("questdb.health_check_failed")), {
      what: "a failed health check",
    });
    // The connection settings themselves, logged by mistake, are redacted by path.
    log.info({ event: "test.config", password: PASSWORD, config: { password: PASSWORD }, connectionString: url });
    await service.close();
  }

  expect(lines.length).toBeGreaterThan(10);
  for (const line of lines) {
    expect(line).not.toContain(PASSWORD);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(typeof parsed.event, line).toBe("string");
    for (const field of ["error", "message"]) {
      if (field in parsed) expect(String(parsed[field]).trim(), line).not.toBe("");
    }
  }
  const answersText = JSON.stringify(answers);
  expect(answersText).not.toContain(PASSWORD);
  for (const answer of answers as Array<{ reason?: string; message?: string }>) {
    if (answer.reason) expect(answer.message).toMatch(/^Failed to .+: .{5,}/);
  }
  // The rejected login is described, in words, from QuestDB's own answer.
  expect(answersText).toMatch(/Failed to get active sessions: [^"]*(password|auth)/i);
});
