import { describe, expect, it } from "vitest";
import { checkBoundaries, type SourceFile } from "./import-boundaries";

const file = (path: string, ...lines: string[]): SourceFile => ({ path, text: lines.join("\n") });
const rulesOf = (files: SourceFile[]) => checkBoundaries(files).map((v) => `${v.rule} ${v.where}`);

describe("import boundaries", () => {
  it("a tree drawn as the README draws it breaks no rule", () => {
    const tree = [
      file("contract/answer.ts", "export type BreakerState = 'closed';"),
      file("server/questdb/policy.ts", 'import type { BreakerState } from "@/contract/answer";'),
      file("server/compose.ts", 'import { createPolicy } from "@/server/questdb/policy";'),
      file("server/root.ts", 'import { x } from "./compose";'),
      file("components/Panel.tsx", '"use client";', 'import type { AppRouter } from "@/server/root";'),
      file("app/page.tsx", 'import { Panel } from "@/components/Panel";', 'import { env } from "@/server/env";'),
      file("bench/run.ts", 'import { compose } from "../server/compose";', 'import { seed } from "../demo/seed";'),
      file("server/questdb/pool.integration.test.ts", 'import { startTestQuestdb } from "@/harness/questdb-process";'),
    ];
    expect(rulesOf(tree)).toEqual([]);
  });

  it("browser code importing the server at runtime fails, a type import of the router does not", () => {
    const tree = [
      file("components/A.tsx", '"use client";', 'import { env } from "@/server/env";'),
      file("components/B.tsx", '"use client";', 'import type { AppRouter } from "@/server/root";'),
    ];
    expect(rulesOf(tree)).toEqual(["browser-to-server components/A.tsx:2", "contract-from-server components/A.tsx:2"]);
  });

  it("the answer's contract taken from server internals fails, even as a type", () => {
    const tree = [file("components/Banner.tsx", 'import type { Resilient } from "@/server/questdb/resilient-query";')];
    expect(rulesOf(tree)).toEqual(["contract-from-server components/Banner.tsx:1"]);
  });

  it("contract/ importing anything else fails", () => {
    expect(rulesOf([file("contract/answer.ts", 'import { x } from "@/server/env";')])).toEqual([
      "contract-imports-nothing contract/answer.ts:1",
    ]);
  });

  it("product importing tooling fails, a test beside product code may", () => {
    const tree = [
      file("server/seed.ts", 'import { seedDemoData } from "@/demo/seed";'),
      file("server/seed.test.ts", 'import { seedDemoData } from "@/demo/seed";'),
    ];
    expect(rulesOf(tree)).toEqual(["product-to-tooling server/seed.ts:1", "server-upward server/seed.ts:1"]);
  });

  it("server importing upward fails, and two folders importing each other is a cycle", () => {
    const tree = [
      file("server/a.ts", 'import { Panel } from "@/components/Panel";'),
      file("components/Panel.tsx", 'import { a } from "@/server/a";'),
    ];
    expect(rulesOf(tree)).toEqual([
      "server-upward server/a.ts:1",
      "contract-from-server components/Panel.tsx:1",
      "folder-cycle components/ ↔ server/",
    ]);
  });

  it("two server rooms importing each other is a cycle; type-only imports do not make one", () => {
    const cycle = [
      file("server/questdb/pool.ts", 'import { log } from "@/server/observability/logger";'),
      file("server/observability/logger.ts", 'import { kind } from "@/server/questdb/errors";'),
    ];
    expect(rulesOf(cycle)).toEqual(["folder-cycle server/observability/ ↔ server/questdb/"]);
    const typesOnly = [
      cycle[0]!,
      file("server/observability/logger.ts", 'import type { Kind } from "@/server/questdb/errors";'),
    ];
    expect(rulesOf(typesOnly)).toEqual([]);
  });

  it("commands are not libraries; product code leaves its folder with @/, not ../", () => {
    const tree = [
      file("harness/x.ts", 'import { main } from "../scripts/dev";'),
      file("server/routers/market.ts", 'import { publicProcedure } from "../trpc";'),
    ];
    expect(rulesOf(tree)).toEqual(["into-scripts harness/x.ts:1", "import-style server/routers/market.ts:1"]);
  });
});
