import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { nextBuild } from "../harness/next-build";
import { startTestQuestdb } from "../harness/questdb-process";
import { seedDemoData } from "../demo/seed";

/**
 * Once per run: build the production app, and seed one QuestDB whose data directory every test
 * copies (a fresh, seeded QuestDB per test without seeding 50,000 rows each time).
 */
export default async function globalSetup() {
  const root = path.resolve(__dirname, "..");
  if (process.env.E2E_SKIP_BUILD !== "1") await nextBuild({ dir: root });
  const template = mkdtempSync(path.join(os.tmpdir(), "e2e-questdb-template-"));
  const questdb = await startTestQuestdb({ dataDir: template });
  try {
    await seedDemoData({ pgUrl: questdb.pgUrl, httpUrl: questdb.httpUrl });
  } finally {
    await questdb.stop();
  }
  process.env.E2E_QUESTDB_TEMPLATE = template;
  // Playwright runs the returned function as the global teardown.
  return () => rmSync(template, { recursive: true, force: true });
}
