import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL(".", import.meta.url)) } },
  test: {
    include: ["**/*.test.ts", "**/*.test.tsx"],
    exclude: ["node_modules/**", ".next/**", "e2e/**", ".questdb/**"],
    environment: "node",
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
    // Integration tests start real QuestDB processes: give them room, and run files one at a time
    // so two QuestDBs never compete for the two cores.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    setupFiles: ["./vitest.setup.ts"],
  },
});
