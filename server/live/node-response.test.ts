import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { RESPONSE_ID_HEADER, recordEventStreamResponses, takeNodeResponse } from "./node-response";

recordEventStreamResponses();
const taken: Array<{ id: string | null; same: boolean; again: boolean }> = [];
const server = http.createServer((req, res) => {
  const headers = new Headers(req.headers as Record<string, string>);
  const node = takeNodeResponse(headers);
  taken.push({ id: headers.get(RESPONSE_ID_HEADER), same: node === res, again: takeNodeResponse(headers) !== null });
  res.end("ok");
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function get(accept: string): Promise<void> {
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await fetch(`http://127.0.0.1:${port}/`, { headers: { accept, [RESPONSE_ID_HEADER]: "forged" } });
}

describe("event-stream responses", () => {
  it("an event-stream request's Node response is taken once, under an id the client cannot choose", async () => {
    await get("text/event-stream");
    expect(taken.at(-1)).toMatchObject({ same: true, again: false });
    expect(taken.at(-1)!.id).not.toBe("forged");
  });

  it("any other request is not recorded, and a client's own id is removed", async () => {
    await get("application/json");
    expect(taken.at(-1)).toEqual({ id: null, same: false, again: false });
  });
});
