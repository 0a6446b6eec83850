import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { killWithThisProcess } from "./child-cleanup";
import { clockOffsetEnv, serverClockOffsetSeconds } from "./faketime";

/**
 * libfaketime under Node, for real: a child with clockOffsetEnv(60) reads a wall clock 60 s
 * ahead, while its timers (the monotonic clock, left alone) fire on time and its HTTP server's
 * `Date` header shows the offset — what the partial-fault tests rely on for `next start`.
 */

/** Node running `script` with the clock offset; resolves with its first line of output. */
async function firstLine(script: string, offsetSeconds: number) {
  const child = spawn(process.execPath, ["-e", script], {
    env: { ...process.env, ...clockOffsetEnv(offsetSeconds) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  killWithThisProcess(child);
  const [chunk] = (await once(child.stdout!, "data")) as [Buffer];
  return { child, line: chunk.toString().trim() };
}

describe("clockOffsetEnv", () => {
  it("puts Date.now() 60 s ahead and leaves timers on time", async () => {
    const before = Date.now();
    const { child, line } = await firstLine(
      "const t0 = Date.now(), p0 = performance.now();" +
        "setTimeout(() => console.log(JSON.stringify({ t0, wallMs: Date.now() - t0, monoMs: performance.now() - p0 })), 300);",
      60,
    );
    await once(child, "exit");
    const { t0, wallMs, monoMs } = JSON.parse(line) as { t0: number; wallMs: number; monoMs: number };
    expect(t0 - before).toBeGreaterThanOrEqual(59_000);
    expect(t0 - before).toBeLessThan(65_000);
    // A 300 ms timer takes 300 ms by both clocks (generous upper bound for a loaded machine).
    for (const ms of [wallMs, monoMs]) {
      expect(ms).toBeGreaterThanOrEqual(290);
      expect(ms).toBeLessThan(3_000);
    }
  });

  it("a server's Date header shows the offset; a negative offset puts it behind", async () => {
    for (const offset of [60, -60]) {
      const { child, line } = await firstLine(
        "const s = require('node:http').createServer((q, r) => r.end('ok'));" +
          "s.listen(0, '127.0.0.1', () => console.log(s.address().port));",
        offset,
      );
      try {
        const measured = await serverClockOffsetSeconds(`http://127.0.0.1:${line}/`);
        expect(Math.abs(measured - offset)).toBeLessThanOrEqual(2);
      } finally {
        child.kill("SIGKILL");
      }
    }
  });
});
