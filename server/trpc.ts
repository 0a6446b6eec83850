/**
 * tRPC set-up, in three parts: 1. context, 2. initialisation (error shape), 3. procedures.
 * Routers get the QuestDB service from the context, never from an import, so a router test
 * can hand in a service pointed at its own QuestDB.
 */
import { initTRPC } from "@trpc/server";
import { ZodError } from "zod";
import { env } from "./env";
import { logEvent, logger } from "./observability/logger";
import { questdbService, type QuestdbService } from "./questdb/service";

// 1. Context

export interface Context {
  questdb: QuestdbService;
}

/** The context without a request: what tests and the server-side caller use. */
export function createContextInner(opts: { questdb: QuestdbService }): Context {
  return { questdb: opts.questdb };
}

/** The context of one HTTP request. */
export function createTRPCContext(): Context {
  return createContextInner({ questdb: questdbService(env) });
}

// 2. Initialisation

/** "limit: Too big: expected number to be <=500" — the field first, for every issue. */
export function describeZodError(error: ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "input"}: ${issue.message}`)
    .join("; ");
}

const t = initTRPC.context<Context>().create({
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
export const publicProcedure = t.procedure.use(async ({ next, path, type }) => {
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
