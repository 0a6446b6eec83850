import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import {
  MALFORMED_PATH_HEADER,
  SOCKET_ADDRESS_HEADER,
  clientAddress,
  escapeMalformedPath,
  recordSocketAddresses,
} from "./client-address";

const headers = (forwardedFor: string | null, socket: string | null = "127.0.0.1") => {
  const h = new Headers();
  if (forwardedFor !== null) h.set("x-forwarded-for", forwardedFor);
  if (socket !== null) h.set(SOCKET_ADDRESS_HEADER, socket);
  return h;
};

describe("clientAddress", () => {
  it("0 trusted hops: the socket's address, never the client's own X-Forwarded-For", () => {
    expect(clientAddress(headers("203.0.113.9"), 0)).toBe("127.0.0.1");
    expect(clientAddress(headers("203.0.113.9, 198.51.100.1"), 0)).toBe("127.0.0.1");
    expect(clientAddress(headers("203.0.113.9", null), 0)).toBe("unknown");
  });

  it("n trusted hops: the n-th address from the right; the leftmost when the chain is shorter", () => {
    expect(clientAddress(headers("6.6.6.6, 203.0.113.9"), 1)).toBe("203.0.113.9");
    expect(clientAddress(headers("6.6.6.6, 203.0.113.9, 10.0.0.2"), 2)).toBe("203.0.113.9");
    expect(clientAddress(headers("203.0.113.9"), 2)).toBe("203.0.113.9");
    expect(clientAddress(headers(null), 1)).toBe("127.0.0.1");
    expect(clientAddress(headers("::ffff:192.0.2.7"), 1)).toBe("192.0.2.7");
  });
});

describe("recordSocketAddresses", () => {
  const servers: http.Server[] = [];
  afterAll(() => {
    for (const server of servers) server.close();
  });

  it("puts the socket's address in the request, over any value the client sent", async () => {
    recordSocketAddresses();
    const seen: Array<string | undefined> = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers[SOCKET_ADDRESS_HEADER] as string | undefined);
      res.end();
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await fetch(`http://127.0.0.1:${port}/`, { headers: { [SOCKET_ADDRESS_HEADER]: "6.6.6.6" } });
    expect(seen).toEqual(["127.0.0.1"]);
  });

  it("a path that cannot be decoded reaches the handler decodable and marked; a client's own mark is removed", async () => {
    recordSocketAddresses();
    const seen: Array<[string | undefined, string | undefined]> = [];
    const server = http.createServer((req, res) => {
      seen.push([req.url, req.headers[MALFORMED_PATH_HEADER] as string | undefined]);
      res.end();
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const get = (path: string, headers: Record<string, string> = {}) =>
      new Promise<void>((resolve, reject) =>
        http
          .get({ host: "127.0.0.1", port, path, headers }, (res) => res.resume().on("end", resolve))
          .on("error", reject),
      );
    await get("/api/trpc/sessions.active%zz?batch=1");
    await get("/api/trpc/sessions.active", { [MALFORMED_PATH_HEADER]: "1" });
    expect(seen).toEqual([
      ["/api/trpc/sessions.active%25zz?batch=1", "1"],
      ["/api/trpc/sessions.active", undefined],
    ]);
  });
});

describe("escapeMalformedPath", () => {
  it("escapes every % of a path that does not decode (a bad escape, a torn UTF-8 sequence); leaves good ones alone", () => {
    expect(escapeMalformedPath("/api/trpc/a%zz")).toBe("/api/trpc/a%25zz");
    expect(escapeMalformedPath("/api/trpc/a%E0%A4%A?x=%zz")).toBe("/api/trpc/a%25E0%25A4%25A?x=%zz");
    expect(escapeMalformedPath("/api/trpc/a%2Cb?input=%7B%7D")).toBeNull();
    expect(decodeURIComponent(escapeMalformedPath("/a%E0%A4%A")!)).toBe("/a%E0%A4%A");
  });
});
