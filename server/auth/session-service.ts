import os from "node:os";
import type { Viewer } from "@/contract/viewer";
import type { Env } from "@/server/env";
import { FLEET_DEFAULTS } from "@/server/fleet/fleet";
import { createFleetRedis } from "@/server/fleet/redis-connection";
import { logEvent, logger } from "@/server/observability/logger";
import { isAllowed } from "./allowed-groups";
import { createFileSessionStore } from "./file-session-store";
import { recheckWithProvider } from "./oidc-recheck";
import { createRedisSessionStore } from "./redis-session-store";
import { SESSION_TTL_SECONDS } from "./session-cookie";
import { createFleetSessionEndings, createLocalSessionEndings } from "./session-endings";
import { createSessions, type Sessions } from "./sessions";

/**
 * The process's one session service, built from the configuration: Redis-backed in fleet mode
 * (REDIS_URL; a connection of its own, with the fleet's timeouts and breaker), files in
 * DASHBOARD_DATA_DIR otherwise; and the hook that ends a live stream with its session.
 */

const globalForSessions = globalThis as unknown as { dashboardSessions?: Sessions };

export function sessionService(env: Env): Sessions {
  globalForSessions.dashboardSessions ??= createSessionService(env);
  return globalForSessions.dashboardSessions;
}

function createSessionService(env: Env): Sessions {
  const log = (level: "info" | "warn", event: string, fields: Record<string, unknown>) =>
    logEvent(logger, level, event, fields);
  const storeLog = (event: string, fields: Record<string, unknown>) => log("warn", event, fields);
  const prefix = FLEET_DEFAULTS.prefix;
  const redisUrl = env.REDIS_URL.trim();
  const conn = redisUrl
    ? createFleetRedis({
        url: redisUrl,
        instanceId: `${os.hostname()}-${process.pid}-sessions`,
        log: (event, fields) => log(/(_failed|_lost|_open)$/.test(event) ? "warn" : "info", event, fields),
      })
    : null;
  return createSessions({
    store: conn
      ? createRedisSessionStore(conn, { prefix, log: storeLog })
      : createFileSessionStore(env.DASHBOARD_DATA_DIR, { log: storeLog }),
    endings: conn ? createFleetSessionEndings(conn, prefix) : createLocalSessionEndings(),
    recheck: (record) => recheckWithProvider(env, record),
    recheckMs: env.AUTH_RECHECK_MINUTES * 60_000,
    allowed: (user) => isAllowed(user, env.OIDC_ALLOWED_GROUPS),
    ttlMs: SESSION_TTL_SECONDS * 1000,
    log,
  });
}

/** The server-side session behind each operator viewer (kept off the Viewer, which the page may render). */
const sessionIds = new WeakMap<Viewer, string>();

export function rememberSessionId(viewer: Viewer, sid: string): Viewer {
  sessionIds.set(viewer, sid);
  return viewer;
}

/**
 * A live stream's signal: it aborts when the stream's request does, or when the viewer's session
 * ends (signed out on any instance, out after a re-check). Without a server-side session
 * (AUTH_MODE=none, a test's viewer) it is the request's own.
 */
export function endsWithSession(viewer: Viewer, signal: AbortSignal, env: Env): AbortSignal {
  const sid = sessionIds.get(viewer);
  return sid === undefined ? signal : sessionService(env).watch(sid, signal);
}
