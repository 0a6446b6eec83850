import { join } from "node:path";
import ts from "typescript";
import { isMain } from "../harness/is-main";

/**
 * `node --import tsx mutation/typecheck.ts <file>`, run in a snapshot by try-mutant.ts: prints
 * TypeScript's errors in <file> (checked with what it imports), one a line. A child process, so
 * the seconds it takes never block the named-mutants command from answering Ctrl-C.
 */
export function typeErrors(dir: string, file: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(dir, "tsconfig.json"),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
  );
  const path = join(dir, file);
  const program = ts.createProgram({
    rootNames: [path],
    options: { ...config?.options, incremental: false, noEmit: true },
  });
  const source = program.getSourceFile(path);
  if (!source) return [`${file} not found`];
  const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
  return diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, " "));
}

if (isMain(typeof module === "undefined" ? undefined : module)) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node --import tsx mutation/typecheck.ts <file>");
    process.exit(2);
  }
  for (const error of typeErrors(process.cwd(), file)) console.log(error);
}
