import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isTemporaryName, replaceAtomically } from "./snapshot-files";

describe("replaceAtomically", () => {
  it("writes the file whole with the mode asked for, leaving no temporary file", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "snapshot-files-"));
    const file = path.join(dir, "secret.json");
    await replaceAtomically(file, '{"a":1}', { mode: 0o600 });
    await replaceAtomically(file, '{"a":2}', { mode: 0o600 });
    expect(readFileSync(file, "utf8")).toBe('{"a":2}');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["secret.json"]);
  });

  it("names its temporary files so a sweep can tell them from the real ones", () => {
    expect(isTemporaryName("abc.json.tmp-0b7c9a52-3a5e-4a39-9d0e-7b1f1d6c2f11")).toBe(true);
    expect(isTemporaryName("abc.json")).toBe(false);
    expect(isTemporaryName("tmp-abc.json")).toBe(false);
  });
});
