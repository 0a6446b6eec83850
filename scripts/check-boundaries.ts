import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { checkBoundaries } from "../harness/import-boundaries";

/**
 * `npm run lint`'s second half: the import rules of the house (harness/import-boundaries.ts) over
 * every TypeScript file git knows. One line per broken rule, exit 1 if any.
 */
const paths = execFileSync(
  "git",
  ["ls-files", "--cached", "--others", "--exclude-standard", "*.ts", "*.tsx", "*.mts"],
  {
    encoding: "utf8",
  },
)
  .split("\n")
  .filter((p) => p && fs.existsSync(p));
const violations = checkBoundaries(paths.map((p) => ({ path: p, text: fs.readFileSync(p, "utf8") })));
for (const v of violations) console.error(`${v.where}  ${v.rule}: ${v.detail}`);
if (violations.length > 0) {
  console.error(`import boundaries: ${violations.length} broken (rules in harness/import-boundaries.ts)`);
  process.exit(1);
}
console.log(`import boundaries: ${paths.length} files, every rule kept`);
