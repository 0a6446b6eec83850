import type { SessionUser } from "@/contract/viewer";
import type { SessionEndings } from "./session-endings";
import { type RecheckOutcome, decideAfterRecheck, isRecheckDue } from "./session-recheck";
import { type ProviderTokens, type SessionRecord, newSessionId } from "./session-record";
import type { SessionStore } from "./session-store";

/**
 * Revocable sessions: the cookie names a session the server keeps (session-store.ts). Signing out
 * removes it, so a copy of the cookie opens nothing, and says so (session-endings.ts), so the
 * session's open live streams end on every instance. A session whose last word from the provider is
 * older than the re-check interval is asked about again in the background: out at the next check
 * when the provider refuses it or its groups no longer let it in.
 */

type Log = (level: "info" | "warn", event: string, fields: Record<string, unknown>) => void;

export interface SessionsOptions {
  store: SessionStore;
  endings: SessionEndings;
  /** Asks the provider about the session's account (oidc-recheck.ts). */
  recheck: (record: SessionRecord) => Promise<RecheckOutcome>;
  recheckMs: number;
  /** Whether the account's groups let it in (OIDC_ALLOWED_GROUPS). */
  allowed: (user: SessionUser) => boolean;
  ttlMs: number;
  now?: () => number;
  log?: Log;
  /** How often the sessions of open streams are read again (a missed announcement, a due re-check). */
  watchEveryMs?: number;
}

/** The store's answer for one session id: unavailable is not "gone" (Redis down is nobody's sign-out). */
export type SessionLookup = { state: "found"; record: SessionRecord } | { state: "gone" } | { state: "unavailable" };

export interface Sessions {
  /** Keeps a new session; its id and end. `stored` false: the store could not be written. */
  begin(user: SessionUser, tokens: ProviderTokens): Promise<{ sid: string; expiresAt: number; stored: boolean }>;
  find(sid: string): Promise<SessionLookup>;
  /** Ends a session everywhere; the record it had (for the provider's logout), or null. */
  end(sid: string, why: string): Promise<SessionRecord | null>;
  /** A signal that aborts when the session ends (or `until` does), for a live stream. */
  watch(sid: string, until: AbortSignal): AbortSignal;
  /** Re-checks still running (tests wait for them). */
  settled(): Promise<void>;
}

/** Long enough for one provider call (5 s timeout) and the write after it. */
const RECHECK_CLAIM_MS = 15_000;
const WATCH_EVERY_MS = 10_000;

export function createSessions(opts: SessionsOptions): Sessions {
  const now = opts.now ?? Date.now;
  const log: Log = opts.log ?? (() => undefined);
  // Ended here or announced: refused even while the store cannot be asked. Kept until their cookie's end.
  const ended = new Map<string, number>();
  const rechecks = new Map<string, Promise<void>>();
  const watchers = createWatchers(opts.watchEveryMs ?? Math.min(WATCH_EVERY_MS, opts.recheckMs), async (sid) => {
    return (await find(sid)).state === "gone";
  });
  opts.endings.listen((sid) => {
    ended.set(sid, now() + opts.ttlMs);
    watchers.end(sid);
  });

  async function find(sid: string): Promise<SessionLookup> {
    if (ended.has(sid)) return { state: "gone" };
    const record = await opts.store.read(sid);
    if (record === undefined) return { state: "unavailable" };
    if (record === null || record.expiresAt <= now()) return { state: "gone" };
    if (isRecheckDue(record, now(), opts.recheckMs)) startRecheck(record);
    return { state: "found", record };
  }

  async function end(sid: string, why: string): Promise<SessionRecord | null> {
    const record = await opts.store.read(sid);
    ended.set(sid, now() + opts.ttlMs);
    for (const [id, until] of ended) if (until <= now()) ended.delete(id);
    const removed = await opts.store.remove(sid);
    await opts.endings.announce(sid);
    log(removed ? "info" : "warn", "auth.session_ended", { sub: record?.user.sub, why, removedFromStore: removed });
    return record ?? null;
  }

  function startRecheck(record: SessionRecord): void {
    if (rechecks.has(record.sid)) return;
    const run = async () => {
      if (!(await opts.store.claimRecheck(record.sid, RECHECK_CLAIM_MS))) return;
      const outcome = await opts.recheck(record);
      const decision = decideAfterRecheck(record, outcome, {
        nowMs: now(),
        intervalMs: opts.recheckMs,
        allowed: opts.allowed,
      });
      if (outcome.kind === "unreachable")
        log("warn", "auth.recheck_unreachable", { sub: record.user.sub, error: outcome.why });
      if (decision.kind === "keep") await opts.store.update(decision.record);
      else await end(record.sid, decision.why);
    };
    const flight = run()
      .catch((error: unknown) => log("warn", "auth.recheck_failed", { sub: record.user.sub, error: String(error) }))
      .finally(() => rechecks.delete(record.sid));
    rechecks.set(record.sid, flight);
  }

  return {
    async begin(user, tokens) {
      const sid = newSessionId();
      const expiresAt = now() + opts.ttlMs;
      const stored = await opts.store.create({ sid, user, expiresAt, checkedAt: now(), ...tokens });
      if (!stored) log("warn", "auth.session_not_stored", { sub: user.sub });
      return { sid, expiresAt, stored };
    },
    find,
    end,
    watch: watchers.watch,
    async settled() {
      await Promise.all(rechecks.values());
    },
  };
}

/**
 * The live streams of each session: ended at once by `end(sid)`, and every `everyMs` the sessions
 * that hold streams are read again (`isGone`), which also starts their due re-checks.
 */
function createWatchers(everyMs: number, isGone: (sid: string) => Promise<boolean>) {
  const streams = new Map<string, Set<AbortController>>();
  let timer: NodeJS.Timeout | null = null;

  function end(sid: string): void {
    for (const controller of streams.get(sid) ?? []) controller.abort(new Error("the session has ended"));
    streams.delete(sid);
  }

  async function readAgain(): Promise<void> {
    for (const sid of [...streams.keys()]) if (await isGone(sid).catch(() => false)) end(sid);
  }

  function release(sid: string, controller: AbortController): void {
    const set = streams.get(sid);
    set?.delete(controller);
    if (set?.size === 0) streams.delete(sid);
    if (streams.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
  }

  return {
    end,
    watch(sid: string, until: AbortSignal): AbortSignal {
      const controller = new AbortController();
      if (until.aborted) return until;
      const set = streams.get(sid) ?? new Set();
      set.add(controller);
      streams.set(sid, set);
      until.addEventListener("abort", () => release(sid, controller), { once: true });
      controller.signal.addEventListener("abort", () => release(sid, controller), { once: true });
      if (!timer) {
        timer = setInterval(() => void readAgain(), everyMs);
        timer.unref();
      }
      return AbortSignal.any([until, controller.signal]);
    },
  };
}
