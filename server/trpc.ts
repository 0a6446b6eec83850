/**
 * tRPC set-up, in three parts: 1. context, 2. initialisation (error shape), 3. procedures.
 * Routers get the QuestDB service from the context, never from an import, so a router test
 * can hand in a service pointed at its own QuestDB.
 */
import { TRPCError, initTRPC } from "@trpc/server";
import { ZodError } from "zod";
import { endsWithSession } from "./auth/session-service";
import { viewerOf, type Viewer } from "./auth/viewer";
import { clientAddress } from "./auth/client-address";
import { env } from "./env";
import { logEvent, logger } from "./observability/logger";
import { questdbService, type QuestdbService } from "./compose";

// 1. Context

export interface Context {
  questdb: QuestdbService;
  /** Who asks: decided from the request's session cookie (server/auth/viewer.ts). */
  viewer: Viewer;
  /** The client's address (server/auth/client-address.ts): live streams are counted per address too. */
  clientAddress: string;
}

/**
 * A live stream ends when the session that opened it does (its end, a sign-out, a re-check that
 * puts it out): the client then reconnects, and is asked to sign in again. Without a session
 * (AUTH_MODE=none) it ends only with the request.
 */
export function streamSignal(ctx: Context, signal: AbortSignal | undefined): AbortSignal {
  const base = signal ?? new AbortController().signal;
  if (ctx.viewer.kind !== "operator") return base;
  const expiry = AbortSignal.timeout(Math.max(0, ctx.viewer.expiresAt - Date.now()));
  return AbortSignal.any([endsWithSession(ctx.viewer, base, env()), expiry]);
}

/** The context without a request: what tests use (authentication off unless a viewer is given). */
export function createContextInner(opts: {
  questdb: QuestdbService;
  viewer?: Viewer;
  clientAddress?: string;
}): Context {
  return {
    questdb: opts.questdb,
    viewer: opts.viewer ?? { kind: "auth-off" },
    clientAddress: opts.clientAddress ?? "local",
  };
}

/** The context of one HTTP request (or of a server-rendered page, from its request headers). */
export async function createTRPCContext(headers: Headers): Promise<Context> {
  return createContextInner({
    questdb: questdbService(env),
    viewer: await viewerOf(headers, env()),
    clientAddress: clientAddress(headers, env().TRUST_PROXY_HOPS),
  });
}

// 2. Initialisation

/** "limit: Too big: expected number to be <=500" — the field first, for every issue. */
export function describeZodError(error: ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "input"}: ${issue.message}`)
    .join("; ");
}

/** Server pings keep a quiet stream alive through proxies; a client that hears nothing for this long reconnects. */
export const SSE_PING_MS = 5_000;
export const SSE_RECONNECT_AFTER_INACTIVITY_MS = 12_000;

const t = initTRPC.context<Context>().create({
  sse: {
    ping: { enabled: true, intervalMs: SSE_PING_MS },
    client: { reconnectAfterInactivityMs: SSE_RECONNECT_AFTER_INACTIVITY_MS },
  },
  errorFormatter({ shape, error }) {
    const zodError = error.code === "BAD_REQUEST" && error.cause instanceof ZodError ? error.cause : null;
    return {
      ...shape,
      message: zodError ? `Invalid input: ${describeZodError(zodError)}` : shape.message,
      data: {
        ...shape.data,
        stack: undefined,
        zodIssues: zodError ? zodError.issues.map(({ path, message, code }) => ({ path, message, code })) : null,
      },
    };
  },
});

export const createCallerFactory = t.createCallerFactory;
export const createTRPCRouter = t.router;

// 3. Procedures

/** Logs only unexpected errors: bad input is the caller's business and already answered in words. */
const loggedProcedure = t.procedure.use(async ({ next, path, type }) => {
  const result = await next();
  if (!result.ok && result.error.code === "INTERNAL_SERVER_ERROR") {
    logEvent(logger, "error", "trpc.unexpected_error", {
      path,
      type,
      error: result.error.message || result.error.name || "unknown error",
    });
  }
  return result;
});

/**
 * Every procedure the app has: trading data and the service's internals are for operators only,
 * so there is no unauthenticated procedure to pick by mistake. 401 without a session, 403 for a
 * user outside OIDC_ALLOWED_GROUPS; the answer is a message, never data.
 */
export const operatorProcedure = loggedProcedure.use(({ ctx, next }) => {
  const { viewer } = ctx;
  if (viewer.kind === "anonymous") {
    const why = {
      "no session": "no session",
      "expired session": "the session has expired",
      "invalid session": "the session cookie is not valid",
    }[viewer.why];
    throw new TRPCError({ code: "UNAUTHORIZED", message: `Not signed in (${why}): open the dashboard to sign in` });
  }
  if (viewer.kind === "not-allowed") {
    throw new TRPCError({
      code: "FORBIDDEN",
      message:
        `Signed in as ${viewer.user.email ?? viewer.user.name}, ` +
        "who is not in a group allowed to see this dashboard",
    });
  }
  return next();
});
