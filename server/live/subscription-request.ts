/**
 * A subscription request as tRPC's fetch adapter reads it, for the broadcast path
 * (app/api/trpc/[trpc]/route.ts): `GET <endpoint>/<path>?input=<JSON>`, one procedure (no batch),
 * and the last event id from `Last-Event-ID` or the query, merged into the input as tRPC does.
 * Anything else (a POST, a batch, input that is not JSON) is left to tRPC, which answers it.
 */

export interface SubscriptionCall {
  path: string;
  input: unknown;
}

export function subscriptionCall(req: Request, endpoint: string): SubscriptionCall | null {
  if (req.method !== "GET") return null;
  const url = new URL(req.url);
  if (!url.pathname.startsWith(`${endpoint}/`)) return null;
  let path: string;
  let input: unknown;
  try {
    path = decodeURIComponent(url.pathname.slice(endpoint.length + 1));
    const raw = url.searchParams.get("input");
    input = raw === null ? undefined : JSON.parse(raw);
  } catch {
    return null; // tRPC answers it (a 400)
  }
  if (path === "" || path.includes(",") || url.searchParams.has("batch")) return null;
  const lastEventId =
    req.headers.get("last-event-id") ?? url.searchParams.get("lastEventId") ?? url.searchParams.get("Last-Event-Id");
  if (lastEventId) {
    if (typeof input === "object" && input !== null && !Array.isArray(input)) input = { ...input, lastEventId };
    else if (input === undefined || input === null) input = { lastEventId };
  }
  return { path, input };
}
