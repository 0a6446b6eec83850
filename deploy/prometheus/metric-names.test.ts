import { describe, expect, it } from "vitest";
import { metricNamesIn, recordedNames, ruleExpressions } from "./metric-names";

describe("metric names in PromQL", () => {
  it("keeps the selected series and leaves out functions, keywords, labels, strings and ranges", () => {
    const expr = `sum by (job, le) (rate(questdb_query_duration_seconds_bucket{outcome=~"ok|timeout"}[5m]))
      / on (job) group_left () sum without (instance) (up{job="x"} offset 1m) > bool 0.5
      unless histogram_quantile(0.99, foo:bar:rate5m) or vector(1) * $__rate_interval`;
    expect(metricNamesIn(expr).sort()).toEqual(["foo:bar:rate5m", "questdb_query_duration_seconds_bucket", "up"]);
  });

  it("reads every rule's expression, one line or a block, and the recorded names", () => {
    const rules = [
      "groups:",
      "  - name: g",
      "    rules:",
      "      - record: a:b:c",
      "        expr: sum(x)",
      "      - alert: A",
      "        expr: |",
      "          y > 0",
      "          or z",
      "        for: 1m",
    ].join("\n");
    expect(ruleExpressions(rules)).toEqual(["sum(x)", "y > 0\n          or z"]);
    expect(recordedNames(rules)).toEqual(["a:b:c"]);
  });
});
