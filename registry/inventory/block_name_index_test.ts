import { assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { BlockNameIndex } from "./block_name_index.ts";

Deno.test("block names resolve per dataset: the same name in two datasets is two blocks", () => {
  const index = new BlockNameIndex();
  index.add(1, "b0", 10);
  index.add(2, "b0", 11);
  index.add(1, "b1", 12);
  assertEquals([index.lookup(1, "b0"), index.lookup(2, "b0"), index.lookup(1, "b1")], [10, 11, 12]);
  assertEquals([index.lookup(2, "b1"), index.lookup(3, "b0"), index.lookup(1, "")], [
    undefined,
    undefined,
    undefined,
  ]);
  assertEquals(index.get(1).get("b1"), 12); // the Map-like view
  assertEquals(index.get(9).get("b1"), undefined);
});

Deno.test("the index grows past many resizes and keeps every key", () => {
  const index = new BlockNameIndex();
  const n = 50_000;
  for (let id = 1; id <= n; id++) index.add(id % 97, `block-${id}`, id);
  assertEquals(index.size, n);
  for (let id = 1; id <= n; id++) {
    if (index.lookup(id % 97, `block-${id}`) !== id) throw new Error(`lost block-${id}`);
  }
  assertEquals(index.lookup(0, "block-1"), undefined);
});

Deno.test("re-adding a key keeps one entry; a key moves to a new id; an id reused by another key forgets the old key", () => {
  const index = new BlockNameIndex();
  index.add(1, "x", 5);
  index.add(1, "x", 5);
  assertEquals(index.size, 1);
  index.add(1, "x", 7); // the key moves on (its old id stays free)
  assertEquals([index.lookup(1, "x"), index.size], [7, 1]);
  index.add(1, "y", 7); // id 7 handed out again (a rolled-back batch): "x" no longer resolves to it
  assertEquals([index.lookup(1, "x"), index.lookup(1, "y")], [undefined, 7]);
  // Tombstones disappear when the table grows; every live key survives.
  for (let id = 100; id < 200; id++) index.add(2, `k${id}`, id);
  assertEquals([index.lookup(1, "x"), index.lookup(1, "y"), index.lookup(2, "k150")], [undefined, 7, 150]);
  index.add(1, "x", 8);
  assertEquals(index.lookup(1, "x"), 8);
});

Deno.test("garbage keys are refused on add and answer nothing on lookup", () => {
  const index = new BlockNameIndex();
  index.add(1, "b", 1);
  assertThrows(() => index.add(1, 5 as unknown as string, 2), TypeError, "string");
  assertThrows(() => index.add(-1, "c", 2), RangeError, "dataset id");
  assertThrows(() => index.add(1, "c", 1.5), RangeError, "block id");
  assertThrows(() => index.add(1, "c", NaN), RangeError, "block id");
  assertThrows(() => index.add(1, "c", 2 ** 40), RangeError, "block id");
  assertEquals(index.size, 1);
  assertEquals(index.lookup(1, null as unknown as string), undefined);
  assertEquals(index.lookup(1.5, "b"), undefined);
  assertEquals(index.lookup(1, "b"), 1);
});

Deno.test("reserve sizes the table once; keys added before and after it all resolve; garbage hints are ignored", () => {
  const index = new BlockNameIndex();
  index.add(1, "early", 1);
  for (const hint of [Number.NaN, -1, 1.5, 2 ** 40, Number.POSITIVE_INFINITY]) index.reserve(hint);
  index.reserve(20_000);
  for (let id = 2; id <= 20_000; id++) index.add(id % 31, `b${id}`, id);
  index.reserve(10); // smaller than what is there: nothing is lost
  assertEquals(index.size, 20_000);
  assertEquals(index.lookup(1, "early"), 1);
  for (let id = 2; id <= 20_000; id++) {
    if (index.lookup(id % 31, `b${id}`) !== id) throw new Error(`lost b${id}`);
  }
});
