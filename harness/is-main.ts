/**
 * Whether the calling module is the program tsx was asked to run (`tsx scripts/seed.ts`), rather
 * than a module imported by another: commands pass their own `module`, so an import runs nothing.
 */
export function isMain(mod: NodeModule | undefined): boolean {
  return typeof require !== "undefined" && mod !== undefined && require.main === mod;
}
