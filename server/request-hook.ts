import http from "node:http";

/**
 * One patch of Node's HTTP server for every step that must see a request before Next.js does
 * (`next start` owns the server, and route handlers get a web Request without its socket or Node
 * response): the client's socket address (server/auth/client-address.ts), the response of an event
 * stream (server/live/node-response.ts). Steps run in the order they were added, once per request.
 */

export type RequestStep = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** On globalThis: Next bundles instrumentation.ts apart from the routes, each with its own module copy. */
const hook = ((globalThis as Record<symbol, unknown>)[Symbol.for("dashboard.requestHook")] ??= {
  steps: [],
  installed: false,
}) as { steps: RequestStep[]; installed: boolean };

/** Runs `step` on every request any HTTP server of this process receives, from now on. */
export function onEveryRequest(step: RequestStep): void {
  if (!hook.steps.includes(step)) hook.steps.push(step);
  if (hook.installed) return;
  hook.installed = true;
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function emitAfterSteps(this: http.Server, event: string, ...args: unknown[]) {
    if (event === "request") {
      for (const step of hook.steps) step(args[0] as http.IncomingMessage, args[1] as http.ServerResponse);
    }
    return Reflect.apply(emit, this, [event, ...args]) as boolean;
  } as typeof emit;
}
