import { assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { PersistentIdSet } from "./persistent_id_set.ts";
import { PersistentVector } from "./persistent_vector.ts";

Deno.test("a vector edit leaves the base version unchanged", () => {
  const v0 = PersistentVector.empty<string>();
  const b = v0.edit();
  b.set(3, "three");
  b.set(5000, "five thousand");
  const v1 = b.build();
  const b2 = v1.edit();
  b2.set(3, "THREE");
  b2.delete(5000);
  const v2 = b2.build();
  assertEquals([...v0.entries()], []);
  assertEquals([...v1.entries()], [[3, "three"], [5000, "five thousand"]]);
  assertEquals([...v2.entries()], [[3, "THREE"]]);
  assertEquals([v0.size, v1.size, v2.size], [0, 2, 1]);
});

Deno.test("a vector shares untouched chunks between versions", () => {
  const b = PersistentVector.empty<number>().edit();
  for (let i = 0; i < 5000; i++) b.set(i, i);
  const v1 = b.build();
  const b2 = v1.edit();
  b2.set(4999, -1);
  const v2 = b2.build();
  assertEquals(v2.chunks[0] === v1.chunks[0], true);
  assertEquals(v2.chunks[4] === v1.chunks[4], false);
  assertEquals([v1.get(4999), v2.get(4999)], [4999, -1]);
});

Deno.test("a vector builder reads its own writes and rejects bad ids", () => {
  const b = PersistentVector.empty<string>().edit();
  b.set(7, "x");
  assertEquals(b.get(7), "x");
  assertEquals(b.size, 1);
  assertThrows(() => b.set(-1, "y"), RangeError);
  assertThrows(() => b.set(1.5, "y"), RangeError);
  b.build();
  assertThrows(() => b.set(8, "z"), Error, "after build");
});

Deno.test("an id set edit leaves the base unchanged", () => {
  const b = PersistentIdSet.EMPTY.edit();
  for (const id of [1, 65, 129, 2]) b.add(id);
  const s1 = b.build();
  const b2 = s1.edit();
  b2.delete(65);
  b2.add(1000);
  const s2 = b2.build();
  assertEquals(s1.sorted(), [1, 2, 65, 129]);
  assertEquals(s2.sorted(), [1, 2, 129, 1000]);
  assertEquals([PersistentIdSet.EMPTY.size, s1.size, s2.size], [0, 4, 4]);
  assertEquals(s2.has(65), false);
  assertEquals(s1.has(65), true);
});
