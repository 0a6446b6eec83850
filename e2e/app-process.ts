import { startApp as launchApp, type AppProcess } from "../scripts/lib/app-process";

/**
 * The app under test (scripts/lib/app-process.ts), killed when the test process exits, however it
 * exits, so no `next start` outlives the suite.
 */

export type { AppProcess };

const live = new Set<AppProcess>();
function killAll() {
  for (const app of live) app.killNow();
}
process.once("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

export async function startApp(opts: { port: number; env: Record<string, string>; logFile: string }): Promise<AppProcess> {
  const app = await launchApp(opts);
  live.add(app);
  return app;
}
