// @ts-check
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Mutation testing of the QuestDB layer (second half of `npm run mutation`): Stryker changes
 * server/questdb/*.ts one small thing at a time and runs the unit tests of vitest.mutation.mts;
 * a change no test notices is a gap in the tests.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  mutate: ["server/questdb/**/*.ts", "!server/questdb/**/*.test.ts", "!server/questdb/testing/**"],
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutation.mts" },
  coverageAnalysis: "perTest",
  // Not copied to the sandbox: nothing the unit tests read.
  ignorePatterns: [
    ".next",
    ".questdb",
    "test-results",
    "playwright-report",
    "blob-report",
    "bench/results",
    "mutation/reports",
  ],
  // Outside the repo: a sandbox inside it would be found by `vitest run` and `tsc` meanwhile.
  tempDirName: join(tmpdir(), "stryker-questdb-dashboard"),
  reporters: ["clear-text", "json", "progress"],
  jsonReporter: { fileName: "mutation/reports/mutation.json" },
  concurrency: 2,
  // Tests use fake timers, but a mutant can still stall one until vitest's own 5 s test timeout.
  timeoutMS: 20_000,
  timeoutFactor: 2,
};
