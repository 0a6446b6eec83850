import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFleet, type AppLauncher, type FleetInstance } from "./app-fleet";
import { startLoadBalancer, type LoadBalancer } from "./nginx-process";
import { eventually } from "./eventually";
import { isPidAlive, isPidStopped, processTree } from "./proc";
import { startRedis, type RedisProcess } from "./redis-process";

/**
 * The fleet-mode launchers for real: a Redis that can be killed, frozen and restarted on its port,
 * an nginx that spreads requests round-robin over two tiny HTTP servers, and the fleet launcher
 * that puts them together (with tiny servers standing in for `next start`). Every assertion
 * would fail if the launcher did nothing; no timing is asserted except a 500 ms PING timeout.
 */

/** What a raw `command\r\n` to 127.0.0.1:port gets within timeoutMs: the answer, or why none. */
function rawCommand(port: number, command: string, timeoutMs = 2_000): Promise<{ answer?: string; failure?: string }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let answer = "";
    let done = false;
    const finish = (result: { answer?: string; failure?: string }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish({ failure: socket.readyState === "open" ? "timeout after connect" : "timeout" }),
      timeoutMs,
    );
    socket.once("connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString("latin1");
      // Enough for the one-line and short array answers asked for here.
      if (/\r\n$/.test(answer) && !/^\*/.test(answer)) finish({ answer });
      if (/^\*2\r\n(\$\d+\r\n[^\r]*\r\n){2}$/.test(answer)) finish({ answer });
    });
    socket.once("error", (error: NodeJS.ErrnoException) => finish({ failure: error.code ?? error.message }));
    socket.once("close", () => finish({ failure: "closed" }));
  });
}

describe("startRedis", () => {
  let redis: RedisProcess;

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it("answers PING on its own port, with nothing persisted", async () => {
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(redis.isRunning()).toBe(true);
    expect(await rawCommand(redis.port, "PING")).toEqual({ answer: "+PONG\r\n" });
    expect((await rawCommand(redis.port, "CONFIG GET save")).answer).toBe("*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
    expect((await rawCommand(redis.port, "CONFIG GET appendonly")).answer).toBe(
      "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n",
    );
    expect((await rawCommand(redis.port, "CONFIG GET bind")).answer).toContain("127.0.0.1");
  });

  it("kill() makes connections refused; restart() answers again on the same port", async () => {
    const { port, pid } = redis;
    await redis.kill();
    expect(redis.isRunning()).toBe(false);
    expect(isPidAlive(pid)).toBe(false);
    expect(await rawCommand(port, "PING")).toEqual({ failure: "ECONNREFUSED" });

    await redis.restart();
    expect(redis.port).toBe(port);
    expect(redis.pid).not.toBe(pid);
    expect(await rawCommand(port, "PING")).toEqual({ answer: "+PONG\r\n" });
  });

  it("freeze() makes a PING time out (the port still accepts); thaw() answers again", async () => {
    redis.freeze();
    try {
      // SIGSTOP is delivered asynchronously: /proc shows "T" a moment after kill() returns.
      await eventually(() => isPidStopped(redis.pid), { timeoutMs: 2_000, intervalMs: 10, what: "redis stopped" });
      expect(await rawCommand(redis.port, "PING", 500)).toEqual({ failure: "timeout after connect" });
    } finally {
      redis.thaw();
    }
    await eventually(() => !isPidStopped(redis.pid), { timeoutMs: 2_000, intervalMs: 10, what: "redis running again" });
    expect(await rawCommand(redis.port, "PING")).toEqual({ answer: "+PONG\r\n" });
  });

  it("stop() ends the process and removes its temp dir", async () => {
    const { pid, dir } = redis;
    expect(fs.existsSync(dir)).toBe(true);
    await redis.stop();
    expect(isPidAlive(pid)).toBe(false);
    expect(fs.existsSync(dir)).toBe(false);
    expect(await rawCommand(redis.port, "PING")).toEqual({ failure: "ECONNREFUSED" });
  });
});

describe("startLoadBalancer", () => {
  /** A tiny upstream that answers its own port number and remembers the X-Forwarded-For it saw. */
  interface Upstream {
    port: number;
    server: http.Server;
    forwardedFor: string[];
  }
  const upstreams: Upstream[] = [];
  let balancer: LoadBalancer;

  async function listen(upstream: Pick<Upstream, "server">, port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      upstream.server.once("error", reject);
      upstream.server.listen(port, "127.0.0.1", () => resolve());
    });
    return (upstream.server.address() as net.AddressInfo).port;
  }

  async function startUpstream(): Promise<Upstream> {
    const forwardedFor: string[] = [];
    const upstream = { port: 0, forwardedFor } as Upstream;
    upstream.server = http.createServer((req, res) => {
      forwardedFor.push(String(req.headers["x-forwarded-for"]));
      res.end(String(upstream.port));
    });
    upstream.port = await listen(upstream);
    upstreams.push(upstream);
    return upstream;
  }

  async function closeUpstream(upstream: Upstream): Promise<void> {
    if (!upstream.server.listening) return;
    const closed = new Promise<void>((resolve) => upstream.server.close(() => resolve()));
    upstream.server.closeAllConnections();
    await closed;
  }

  /** A GET on a fresh connection (no keep-alive, so a reload never meets a stale socket). */
  function get(url: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.get(url, { agent: false, timeout: 10_000 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
      req.on("error", reject);
    });
  }

  /** The bodies of `count` GETs in a row through the balancer; fails on any status but 200. */
  async function answersThroughBalancer(count: number): Promise<number[]> {
    const answers: number[] = [];
    for (let i = 0; i < count; i++) {
      const { status, body } = await get(`${balancer.url}/`);
      expect(status, `request ${i + 1}: ${body}`).toBe(200);
      answers.push(Number(body));
    }
    return answers;
  }

  const countOf = (answers: number[], port: number) => answers.filter((a) => a === port).length;

  beforeAll(async () => {
    const [a, b] = [await startUpstream(), await startUpstream()];
    balancer = await startLoadBalancer({ upstreamPorts: [a.port, b.port] });
  });

  afterAll(async () => {
    await balancer?.stop();
    await Promise.all(upstreams.map(closeUpstream));
  });

  it("spreads requests round-robin over both instances", async () => {
    const [a, b] = upstreams as [Upstream, Upstream];
    expect(balancer.url).toBe(`http://127.0.0.1:${balancer.port}`);
    expect(balancer.port).not.toBe(a.port);
    expect(balancer.port).not.toBe(b.port);

    const answers = await answersThroughBalancer(10);
    expect(new Set(answers)).toEqual(new Set([a.port, b.port]));
    expect(Math.abs(countOf(answers, a.port) - countOf(answers, b.port))).toBeLessThanOrEqual(1);
    expect([...a.forwardedFor, ...b.forwardedFor]).toContain("127.0.0.1");
  });

  it("skips an instance that is down: every request is answered by the other", async () => {
    const [a, b] = upstreams as [Upstream, Upstream];
    await closeUpstream(b);
    const answers = await answersThroughBalancer(10);
    expect(answers).toEqual(Array(10).fill(a.port));

    // max_fails=0: back on its port, it gets its share again at once.
    await listen(b, b.port);
    expect(new Set(await answersThroughBalancer(10))).toEqual(new Set([a.port, b.port]));
  });

  it("reload() points it at the given instances only", async () => {
    const [a, b] = upstreams as [Upstream, Upstream];
    await balancer.reload([b.port]);
    expect(a.server.listening).toBe(true);
    expect(await answersThroughBalancer(10)).toEqual(Array(10).fill(b.port));

    await balancer.reload([a.port, b.port]);
    expect(new Set(await answersThroughBalancer(10))).toEqual(new Set([a.port, b.port]));
  });

  it("stop() leaves no nginx process and no temp dir", async () => {
    const pids = processTree(balancer.pid);
    expect(pids.length).toBeGreaterThanOrEqual(2); // the master and its worker
    expect(pids.every(isPidAlive)).toBe(true);
    expect(fs.existsSync(balancer.dir)).toBe(true);

    await balancer.stop();
    expect(balancer.isRunning()).toBe(false);
    expect(pids.filter(isPidAlive)).toEqual([]);
    expect(fs.existsSync(balancer.dir)).toBe(false);
    await expect(get(`${balancer.url}/`)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});

describe("startFleet", () => {
  /** What a fake instance was started with, as it answers every request. */
  interface Started {
    port: number;
    redisUrl: string | null;
    dataDir: string;
    setting: string | undefined;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-launcher-test-"));
  let launching = 0;
  let mostLaunchingAtOnce = 0;

  /** Instead of `next start`: a tiny in-process server answering the settings it was launched with. */
  function fakeLauncher(failPort?: () => number | undefined): AppLauncher {
    return async ({ port, logFile, env }) => {
      launching++;
      mostLaunchingAtOnce = Math.max(mostLaunchingAtOnce, launching);
      try {
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (port === failPort?.()) throw new Error(`instance on ${port} failed to start`);
        const started: Started = {
          port,
          redisUrl: env.REDIS_URL ?? null,
          dataDir: env.DASHBOARD_DATA_DIR!,
          setting: env.FLEET_TEST_SETTING,
        };
        const server = http.createServer((_req, res) => res.end(JSON.stringify(started)));
        await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
        const stop = () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          });
        return {
          name: "fake app",
          url: `http://127.0.0.1:${port}`,
          pid: process.pid,
          logFile,
          isRunning: () => server.listening,
          exit: () => null,
          log: () => "",
          unhandledErrors: () => [],
          stop,
        };
      } finally {
        launching--;
      }
    };
  }

  async function answerThroughBalancer(url: string): Promise<Started> {
    const res = await fetch(url, { headers: { connection: "close" } });
    return (await res.json()) as Started;
  }

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("starts Redis, instances sharing it side by side and nginx over them; stop() ends every part", async () => {
    mostLaunchingAtOnce = 0;
    const fleet = await startFleet({
      size: 2,
      withRedis: true,
      dir,
      env: { FLEET_TEST_SETTING: "given" },
      namePrefix: "app",
      launch: fakeLauncher(),
      startTogether: true,
    });
    const redis = fleet.redis!;
    try {
      expect(mostLaunchingAtOnce).toBe(2);
      expect(fleet.instances.map((i) => i.name)).toEqual(["app-1", "app-2"]);
      expect(new Set(fleet.instances.map((i) => i.dataDir)).size).toBe(2);
      expect(await rawCommand(redis.port, "PING")).toEqual({ answer: "+PONG\r\n" });
      const answers = [
        await answerThroughBalancer(fleet.balancer.url),
        await answerThroughBalancer(fleet.balancer.url),
      ];
      expect(new Set(answers.map((a) => a.port))).toEqual(new Set(fleet.instances.map((i) => i.port)));
      for (const instance of fleet.instances) {
        const answer = await answerThroughBalancer(instance.url);
        expect(answer).toEqual({
          port: instance.port,
          redisUrl: redis.url,
          dataDir: instance.dataDir,
          setting: "given",
        });
      }
    } finally {
      await fleet.stop();
    }
    expect(fleet.balancer.isRunning()).toBe(false);
    expect(redis.isRunning()).toBe(false);
    expect(fleet.instances.map((i) => i.app.isRunning())).toEqual([false, false]);
  });

  it("without Redis, starts one instance at a time; restart on another data directory uses it", async () => {
    mostLaunchingAtOnce = 0;
    const fleet = await startFleet({
      size: 2,
      withRedis: false,
      dir,
      env: {},
      namePrefix: "solo",
      launch: fakeLauncher(),
    });
    try {
      expect(fleet.redis).toBeNull();
      expect(mostLaunchingAtOnce).toBe(1);
      const [first] = fleet.instances as [FleetInstance];
      expect((await answerThroughBalancer(first.url)).redisUrl).toBeNull();
      await first.stop();
      first.dataDir = path.join(dir, "moved");
      await first.start();
      expect(await answerThroughBalancer(first.url)).toMatchObject({ port: first.port, dataDir: first.dataDir });
    } finally {
      await fleet.stop();
    }
  });

  it("when an instance fails to start, stops what it started (Redis included) and throws", async () => {
    const launched: number[] = [];
    let redisPort: number | undefined;
    const launch = fakeLauncher(() => launched[1]);
    const recording: AppLauncher = (opts) => {
      launched.push(opts.port);
      redisPort = Number(opts.env.REDIS_URL?.split(":").pop());
      return launch(opts);
    };
    await expect(
      startFleet({ size: 2, withRedis: true, dir, env: {}, namePrefix: "failing", launch: recording }),
    ).rejects.toThrow(/instance on \d+ failed to start/);
    expect(launched).toHaveLength(2);
    expect(await rawCommand(redisPort!, "PING")).toEqual({ failure: "ECONNREFUSED" });
    await expect(fetch(`http://127.0.0.1:${launched[0]}/`)).rejects.toThrow();
  });
});
