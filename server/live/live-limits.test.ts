import { describe, expect, it } from "vitest";
import { isLiveLimitError, LiveLimitError, tooManyStreams } from "./live-limits";

describe("isLiveLimitError", () => {
  it("recognises the error thrown by a second copy of this module (Next.js bundles the hook apart)", async () => {
    const copy = (await import("./live-limits?copy" as string)) as typeof import("./live-limits");
    const fromCopy = copy.tooManyStreams(8, "client:127.0.0.1");
    expect(fromCopy instanceof LiveLimitError, "a second class, as in the production build").toBe(false);
    expect(isLiveLimitError(fromCopy)).toBe(true);
    expect(isLiveLimitError(tooManyStreams(8, "session:abc"))).toBe(true);
  });

  it("anything else is not one", () => {
    expect(isLiveLimitError(new Error("Too many live streams"))).toBe(false);
    expect(isLiveLimitError({ name: "LiveLimitError", limit: "streams" })).toBe(false);
  });
});
