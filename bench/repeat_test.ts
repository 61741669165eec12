import { assertEquals, assertMatch, assertThrows } from "../tests/helpers/assert.ts";
import { MAX_REPEAT, median, medianFigures, parseRepeat } from "./repeat.ts";

Deno.test("bench --repeat: a whole number of runs from 1 to the maximum; garbage is refused naming the option", () => {
  assertEquals(parseRepeat(undefined), 1);
  assertEquals(parseRepeat("1"), 1);
  assertEquals(parseRepeat("5"), 5);
  assertEquals(parseRepeat(String(MAX_REPEAT)), MAX_REPEAT);
  for (
    const bad of ["0", "-1", "1.5", "1e1", "abc", "", " 5", "5 ", "0x5", String(MAX_REPEAT + 1), "99999999"]
  ) {
    assertMatch(assertThrows(() => parseRepeat(bad)).message, /--repeat/, JSON.stringify(bad));
  }
});

Deno.test("median: the middle value, or the mean of the two middle ones", () => {
  assertEquals(median([3, 1, 2]), 2);
  assertEquals(median([4, 1, 3, 2]), 2.5);
  assertEquals(median([7]), 7);
  assertEquals(median([0.4, 0.3, 0.5, 0.3, 0.6]), 0.4);
});

Deno.test("median figures: each number's median over the runs, its range where the runs differ", () => {
  const runs = [
    { database: "postgres", "journal.commands_per_second": 200, "journal.ratio_to_copy": 0.4, "x.same": 106 },
    {
      database: "postgres",
      "journal.commands_per_second": 150,
      "journal.ratio_to_copy": 0.25,
      "x.same": 106,
    },
    { database: "postgres", "journal.commands_per_second": 180, "journal.ratio_to_copy": 0.5, "x.same": 106 },
  ];
  assertEquals(medianFigures(runs), {
    "bench.runs": 3,
    database: "postgres",
    "journal.commands_per_second": 180,
    // The runs' own ratios' median (0.4), not 180 over the limits' median.
    "journal.ratio_to_copy": 0.4,
    "x.same": 106,
    "bench.ranges": { "journal.commands_per_second": [150, 200], "journal.ratio_to_copy": [0.25, 0.5] },
  });
});

Deno.test("median figures: values that are not numbers in every run are kept if equal, else listed by run", () => {
  const out = medianFigures([
    { "dealer.rejections": { quota: 2 }, "a.sometimes": 5, "b.nan": 1, scale: "small" },
    { "dealer.rejections": { quota: 3 }, scale: "small", "b.nan": null },
  ]);
  assertEquals(out["dealer.rejections"], [{ quota: 2 }, { quota: 3 }]);
  assertEquals(out["a.sometimes"], [5, null]);
  assertEquals(out["b.nan"], [1, null]);
  assertEquals(out.scale, "small");
  assertEquals(out["bench.ranges"], {});
  assertThrows(() => medianFigures([]), RangeError);
});
