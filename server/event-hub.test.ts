import { describe, expect, it } from "vitest";
import { createEventHub } from "./event-hub";

describe("event hub", () => {
  it("tells every subscriber each event, in the order they subscribed, until they stop", () => {
    const hub = createEventHub<number>();
    const heard: string[] = [];
    const stopFirst = hub.subscribe((n) => heard.push(`first ${n}`));
    hub.subscribe((n) => heard.push(`second ${n}`));
    hub.publish(1);
    stopFirst();
    hub.publish(2);
    expect(heard).toEqual(["first 1", "second 1", "second 2"]);
  });

  it("publishes to nobody without subscribers", () => {
    expect(() => createEventHub<string>().publish("unheard")).not.toThrow();
  });
});
