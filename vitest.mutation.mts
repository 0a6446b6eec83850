import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The unit tests that guard the QuestDB layer, for mutation testing (npm run mutation).
// No integration tests, no e2e, no components: every run here must be fast and need no QuestDB.
// Only the default reporter, so test-results/vitest.json (written by vitest.config.mts) is left alone.
export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL(".", import.meta.url)) } },
  test: {
    include: ["server/questdb/**/*.test.ts", "server/observability/**/*.test.ts"],
    exclude: ["**/*.integration.test.ts", "node_modules/**", "mutation/**"],
    environment: "node",
    reporters: ["default"],
    setupFiles: ["./vitest.setup.ts"],
  },
});
