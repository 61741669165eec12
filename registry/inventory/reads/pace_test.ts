import { assertEquals, assertThrows } from "../../../tests/helpers/assert.ts";
import { ReadBudgetExceeded, slicedPace } from "./pace.ts";

Deno.test("a sliced pace yields once a slice is used and throws past the budget, looking every N items", async () => {
  let now = 0;
  let yields = 0;
  const pace = slicedPace({
    budgetMs: 100,
    now: () => now,
    yieldNow: () => (yields++, Promise.resolve()),
    sliceMs: 20,
    every: 4,
  });
  for (let i = 0; i < 3; i++) assertEquals(pace(), undefined);
  now = 19;
  assertEquals(pace(), undefined); // the 4th item looks: slice not used yet
  for (let i = 0; i < 3; i++) pace();
  now = 25;
  await pace(); // the 8th: 25 ms into the slice
  assertEquals(yields, 1);
  for (let i = 0; i < 3; i++) pace();
  assertEquals(pace(), undefined); // a new slice started after the yield
  now = 101;
  for (let i = 0; i < 3; i++) pace(); // items between looks never throw
  assertThrows(() => pace(), ReadBudgetExceeded, "0.1 s");
});

Deno.test("an infinite budget never expires", () => {
  let now = 0;
  const pace = slicedPace({
    budgetMs: Infinity,
    now: () => now,
    yieldNow: () => Promise.resolve(),
    every: 1,
  });
  now = Number.MAX_SAFE_INTEGER;
  pace(); // a yield, no error
});
