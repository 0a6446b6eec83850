/**
 * Whether the tables live topics read have changed, asked of QuestDB with one cheap query for all
 * of them every `intervalMs` — so a topic runs its full query only when a table it reads moved,
 * instead of once a second in case something did. The check goes through the resilient layer
 * (compose.ts): its failures are QuestDB failures, counted by the breaker. While it fails, every
 * topic is told once (its own query then answers degraded, and the page shows the banner) and again
 * when it recovers; in between topics fall back to their safety-net refresh (`vouches` is false).
 * One detector per instance, for the topics whose loop this instance runs.
 */

/** Each table's version (QuestDB's writer transaction), or null when QuestDB did not answer. */
export type CheckTables = (tables: readonly string[]) => Promise<ReadonlyMap<string, string> | null>;

export type ChangeReason = "changed" | "failing" | "recovered";

export interface ChangeDetector {
  /** Calls `onChange` when one of `tables` moves (or the check starts or stops failing); returns the way out. */
  watch(tables: readonly string[], onChange: (reason: ChangeReason) => void): () => void;
  /** Whether a check answered within `withinMs` and knew every one of `tables`: no change means none happened. */
  vouches(tables: readonly string[], withinMs: number): boolean;
  stats(): { watchers: number; checks: number; failures: number };
  stop(): void;
}

export interface ChangeDetectorOptions {
  intervalMs: number;
  check: CheckTables;
  now?: () => number;
}

interface Watcher {
  tables: readonly string[];
  onChange: (reason: ChangeReason) => void;
}

type Health = { state: "unknown" } | { state: "ok"; at: number } | { state: "failing" };

export function createChangeDetector(options: ChangeDetectorOptions): ChangeDetector {
  const now = options.now ?? Date.now;
  const watchers = new Set<Watcher>();
  let versions = new Map<string, string>();
  let health: Health = { state: "unknown" };
  let checking = false;
  let checks = 0;
  let failures = 0;

  const tell = (targets: Iterable<Watcher>, reason: ChangeReason) => {
    for (const watcher of [...targets]) watcher.onChange(reason);
  };

  async function checkOnce(): Promise<void> {
    if (checking || watchers.size === 0) return;
    checking = true;
    checks += 1;
    try {
      const tables = [...new Set([...watchers].flatMap((w) => w.tables))];
      const seen = await options.check(tables).catch(() => null);
      if (seen === null) {
        failures += 1;
        if (health.state !== "failing") tell(watchers, "failing");
        health = { state: "failing" };
        return;
      }
      const wasFailing = health.state === "failing";
      health = { state: "ok", at: now() };
      // A table seen for the first time counts as moved: a write since its topic's first fetch is not lost.
      const moved = new Set(tables.filter((table) => seen.get(table) !== versions.get(table)));
      versions = new Map(seen);
      if (wasFailing) tell(watchers, "recovered");
      else if (moved.size > 0)
        tell(
          [...watchers].filter((w) => w.tables.some((t) => moved.has(t))),
          "changed",
        );
    } finally {
      checking = false;
    }
  }

  const timer = setInterval(() => void checkOnce(), options.intervalMs);
  timer.unref?.();

  return {
    watch(tables, onChange) {
      const watcher: Watcher = { tables, onChange };
      watchers.add(watcher);
      return () => watchers.delete(watcher);
    },
    vouches(tables, withinMs) {
      if (health.state !== "ok" || now() - health.at > withinMs || tables.length === 0) return false;
      return tables.every((table) => versions.has(table));
    },
    stats: () => ({ watchers: watchers.size, checks, failures }),
    stop: () => clearInterval(timer),
  };
}
