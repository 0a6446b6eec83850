import path from "node:path";
import ts from "typescript";

/**
 * The house's import rules, checked on every `npm run lint` so the layout drawn in the README stays
 * drawn: arrows point one way (app → components → trpc → server → contract; tooling → anything), the
 * browser never pulls the server in, the answer's contract comes from contract/, nothing in product
 * depends on tooling, and no two folders import each other. Tests sit beside the code they test and
 * may reach into tooling (a real QuestDB launcher, the demo seed), so they are exempt.
 */

export interface ImportEdge {
  /** The importing file, relative to the project root with forward slashes. */
  from: string;
  /** The imported file or folder, resolved the same way (no extension). */
  to: string;
  /** The specifier as written. */
  specifier: string;
  typeOnly: boolean;
  line: number;
}

export interface SourceFile {
  path: string;
  text: string;
}

export interface Violation {
  rule: string;
  where: string;
  detail: string;
}

const PRODUCT = ["server/", "components/", "app/", "trpc/", "contract/", "proxy.ts", "instrumentation.ts"];
const TOOLING = ["demo/", "harness/", "bench/", "chaos/", "e2e/", "scripts/", "mutation/"];
/** What browser code may name from server/: the router's type, the tRPC convention. */
const ROUTER_TYPES = /^server\/(root|trpc)$/;

const inAny = (file: string, dirs: readonly string[]) => dirs.some((d) => file === d || file.startsWith(d));
const topFolder = (file: string) => (file.includes("/") ? `${file.split("/")[0]}/` : file);
const serverRoom = (file: string) => {
  const parts = file.split("/");
  return parts[0] === "server" && parts.length > 2 ? `server/${parts[1]}/` : null;
};

export const isTestFile = (file: string) => /\.(test|spec)\.tsx?$/.test(file) || file.includes("/testing/");
export const isProduct = (file: string) => inAny(file, PRODUCT);
const isBrowserCode = (text: string) => /^\s*["']use client["']/m.test(text.slice(0, 300));

/** The imports of one file that point into the project (`@/…` or relative), with their kind. */
export function importsOf(file: SourceFile): ImportEdge[] {
  const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true);
  const edges: ImportEdge[] = [];
  for (const node of source.statements) {
    if (!(ts.isImportDeclaration(node) || ts.isExportDeclaration(node))) continue;
    if (!node.moduleSpecifier || !ts.isStringLiteral(node.moduleSpecifier)) continue;
    const specifier = node.moduleSpecifier.text;
    const to = resolveSpecifier(file.path, specifier);
    if (to === null) continue;
    const typeOnly = ts.isImportDeclaration(node) ? !!node.importClause?.isTypeOnly : node.isTypeOnly;
    const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
    edges.push({ from: file.path, to, specifier, typeOnly, line });
  }
  return edges;
}

function resolveSpecifier(from: string, specifier: string): string | null {
  if (specifier.startsWith("@/")) return specifier.slice(2);
  if (!specifier.startsWith(".")) return null;
  return path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
}

/** Every rule broken by one import, as violations (none for a test file). */
export function checkImport(edge: ImportEdge, browserCode: boolean): Violation[] {
  if (isTestFile(edge.from)) return [];
  const where = `${edge.from}:${edge.line}`;
  const out: Violation[] = [];
  const add = (rule: string, detail: string) => out.push({ rule, where, detail });
  const { from, to } = edge;
  if (from.startsWith("contract/") && !to.startsWith("contract/")) {
    add("contract-imports-nothing", `contract/ is client-safe and imports nothing else, not ${edge.specifier}`);
  }
  if (browserCode && to.startsWith("server/") && !(edge.typeOnly && ROUTER_TYPES.test(to))) {
    add("browser-to-server", `browser code ("use client") must not import ${edge.specifier}`);
  }
  if (inAny(from, ["components/", "trpc/"]) && to.startsWith("server/") && !ROUTER_TYPES.test(to)) {
    add("contract-from-server", `take the answer's contract from @/contract/…, not ${edge.specifier}`);
  }
  if (isProduct(from) && inAny(to, TOOLING)) {
    add("product-to-tooling", `product code must not import tooling (${edge.specifier})`);
  }
  if (from.startsWith("server/") && !to.startsWith("server/") && !to.startsWith("contract/") && !edge.typeOnly) {
    add("server-upward", `server/ imports only server/ and contract/, not ${edge.specifier}`);
  }
  if (!from.startsWith("scripts/") && to.startsWith("scripts/")) {
    add("into-scripts", `commands are not libraries: move what ${edge.specifier} shares into harness/ or demo/`);
  }
  if (isProduct(from) && edge.specifier.startsWith("../")) {
    add("import-style", `outside its own folder product code imports with @/…, not ${edge.specifier}`);
  }
  return out;
}

/** Strongly connected groups of more than one node (Tarjan): the folders that import each other. */
export function cyclesOf(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    order.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!order.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, order.get(w)!));
    }
    if (low.get(v) !== order.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1) found.push(group.sort());
  };
  const nodes = new Set([...edges.keys(), ...[...edges.values()].flatMap((s) => [...s])]);
  for (const v of nodes) if (!order.has(v)) visit(v);
  return found;
}

/** All violations of a tree: per import, then cycles between top folders and between server/ rooms. */
export function checkBoundaries(files: readonly SourceFile[]): Violation[] {
  const violations: Violation[] = [];
  const folders = new Map<string, Set<string>>();
  const rooms = new Map<string, Set<string>>();
  const link = (map: Map<string, Set<string>>, a: string | null, b: string | null) => {
    if (a === null || b === null || a === b) return;
    if (!map.has(a)) map.set(a, new Set());
    map.get(a)!.add(b);
  };
  for (const file of files) {
    const browser = isBrowserCode(file.text);
    for (const edge of importsOf(file)) {
      violations.push(...checkImport(edge, browser));
      if (edge.typeOnly || isTestFile(edge.from)) continue;
      link(folders, topFolder(edge.from), topFolder(edge.to));
      link(rooms, serverRoom(edge.from), serverRoom(edge.to));
    }
  }
  for (const group of [...cyclesOf(folders), ...cyclesOf(rooms)]) {
    violations.push({ rule: "folder-cycle", where: group.join(" ↔ "), detail: "these folders import each other" });
  }
  return violations;
}
