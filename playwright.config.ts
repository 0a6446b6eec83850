import { defineConfig } from "@playwright/test";

/**
 * Real Chromium (Debian's), a real QuestDB per test, the production build of the app.
 * One worker: each test runs QuestDB, the app and a browser on a 2-core machine.
 */
export default defineConfig({
  testDir: "e2e",
  globalSetup: "./e2e/global-setup.ts",
  outputDir: "test-results/e2e",
  workers: 1,
  // In CI, one retry for a test that kills real processes: a pass on retry is still reported, by
  // name, as flaky (.ci/run prints it), so it is seen and fixed rather than hidden.
  retries: process.env.CI ? 1 : 0,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [["list"], ["json", { outputFile: "test-results/e2e-report.json" }]],
  use: {
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
});
