import { assert, assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { BlockReplicaColumns, MAX_COLUMN_ID } from "./block_replica_columns.ts";
import type { BlockReplica } from "./records.ts";

function br(blockId: number, extra: Partial<BlockReplica> = {}): BlockReplica {
  return {
    blockId,
    siteId: 7,
    groupId: 3,
    isCustodial: false,
    size: 5_000_000_000 + blockId, // above 2^31: a double, not a small integer
    lastUpdate: 1_700_000_000 + blockId,
    fileIds: null,
    partitions: 0b101,
    ...extra,
  };
}

Deno.test("columns keep block id order and give back every field as put", () => {
  const c = BlockReplicaColumns.empty(7).copy();
  for (const id of [40, 10, 30, 20, 50]) {
    c.put(br(id, { isCustodial: id === 30, groupId: id === 20 ? 0 : 3, fileIds: id === 10 ? [1, 2] : null }));
  }
  assertEquals(c.length, 5);
  assertEquals([...c].map((r) => r.blockId), [10, 20, 30, 40, 50]);
  assertEquals(c.get(10), br(10, { fileIds: [1, 2] }));
  assertEquals(c.get(20), br(20, { groupId: 0 }));
  assertEquals(c.get(30), br(30, { isCustodial: true }));
  assertEquals(c.get(35), undefined);
  assertEquals(c.indexOf(35), -4); // would be inserted at index 3
  assertEquals(c.at(5), undefined);
  assertEquals(c.at(-1), undefined);
  assertEquals(c.at(0.5), undefined);
  assert(!c.allComplete());
  assertEquals(c.toArray(), [...c]);
  assertEquals(c.blockIds(), [10, 20, 30, 40, 50]);
  assertEquals(BlockReplicaColumns.empty(7).blockIds(), []);
});

Deno.test("columns grow from empty to many and shrink back, in any order", () => {
  const c = BlockReplicaColumns.empty(7).copy();
  const ids = Array.from({ length: 2000 }, (_, i) => (i * 7919) % 2003);
  for (const id of ids) c.put(br(id));
  assertEquals(c.length, 2000);
  const sorted = [...ids].sort((a, b) => a - b);
  assertEquals(Array.from({ length: c.length }, (_, i) => c.blockIdAt(i)), sorted);
  for (const id of ids.slice(0, 1500)) assert(c.remove(id));
  assert(!c.remove(ids[0]!), "removing twice reports nothing removed");
  assertEquals(c.length, 500);
  assertEquals([...c].map((r) => r.blockId), sorted.filter((id) => ids.indexOf(id) >= 1500));
  for (const id of ids.slice(1500)) c.remove(id);
  assertEquals(c.length, 0);
  assertEquals([...c], []);
});

Deno.test("replacing a replica changes only it; file lists come and go", () => {
  const c = BlockReplicaColumns.empty(7).copy();
  c.put(br(1));
  c.put(br(2));
  c.put(br(2, { fileIds: [9], size: 12 }));
  assertEquals(c.length, 2);
  assertEquals(c.get(2), br(2, { fileIds: [9], size: 12 }));
  assert(!c.allComplete());
  c.put(br(2)); // complete again
  assert(c.allComplete());
  c.put(br(3, { fileIds: [4] }));
  c.remove(3); // the last incomplete one goes: the side array goes too
  assert(c.allComplete());
  assertEquals(c.get(1), br(1));
});

Deno.test("sealed columns refuse edits; a copy is independent of its original (reuse across versions)", () => {
  const base = BlockReplicaColumns.of(7, [br(3), br(1), br(2, { fileIds: [5] })]);
  assert(base.sealed);
  assertThrows(() => base.put(br(4)), Error, "sealed");
  assertThrows(() => base.remove(1), Error, "sealed");
  assertThrows(() => base.clear(), Error, "sealed");
  const next = base.copy();
  next.put(br(4));
  next.remove(1);
  next.put(br(2)); // replaces the incomplete one
  next.seal();
  assertEquals([...base].map((r) => [r.blockId, r.fileIds]), [[1, null], [2, [5]], [3, null]]);
  assertEquals([...next].map((r) => [r.blockId, r.fileIds]), [[2, null], [3, null], [4, null]]);
  const cleared = next.copy();
  cleared.clear();
  assertEquals([cleared.length, next.length], [0, 3]);
  assertThrows(() => BlockReplicaColumns.of(7, [br(1), br(1)]), RangeError, "twice");
});

Deno.test("file lists are stored frozen and never shared with the caller's array", () => {
  const c = BlockReplicaColumns.empty(7).copy();
  const files = [1, 2, 3];
  c.put(br(1, { fileIds: files }));
  files.push(4);
  assertEquals(c.get(1)!.fileIds, [1, 2, 3]);
  assert(Object.isFrozen(c.get(1)!.fileIds));
});

Deno.test("garbage replicas are refused with a reason and change nothing", () => {
  const c = BlockReplicaColumns.empty(7).copy();
  c.put(br(1));
  const bad: [Partial<BlockReplica> | null, string][] = [
    [{ blockId: -1 }, "blockId"],
    [{ blockId: 1.5 }, "blockId"],
    [{ blockId: MAX_COLUMN_ID + 1 }, "blockId"],
    [{ blockId: NaN }, "blockId"],
    [{ groupId: -3 }, "groupId"],
    [{ groupId: "3" as unknown as number }, "groupId"],
    [{ siteId: 8 }, "site id 8"],
    [{ size: NaN }, "size"],
    [{ size: Infinity }, "size"],
    [{ lastUpdate: "now" as unknown as number }, "lastUpdate"],
    [{ partitions: -1 }, "partitions"],
    [{ partitions: 2 ** 31 }, "partitions"],
    [{ isCustodial: 1 as unknown as boolean }, "isCustodial"],
    [{ fileIds: [1, "x"] as unknown as number[] }, "fileIds"],
    [{ fileIds: "1,2" as unknown as number[] }, "fileIds"],
    [null, "object"],
  ];
  for (const [fields, message] of bad) {
    const input = fields === null ? null as unknown as BlockReplica : br(2, fields);
    assertThrows(() => c.put(input), Error, message);
  }
  assertEquals([...c], [br(1)]);
  assertThrows(() => BlockReplicaColumns.empty(-1), RangeError, "siteId");
  assertThrows(() => BlockReplicaColumns.empty(2 ** 40), RangeError, "siteId");
});

Deno.test("field readers by index agree with the records, and the whole-list tests with a scan of them", () => {
  const c = BlockReplicaColumns.of(7, [
    br(10, { groupId: 4, isCustodial: true, fileIds: [9], partitions: 0b001 }),
    br(20, { groupId: 0, partitions: 0b110 }),
    br(30, { groupId: 4, size: 0.5, lastUpdate: 12.25, partitions: 0b011 }),
  ]);
  for (let i = 0; i < c.length; i++) {
    const r = c.at(i)!;
    assertEquals(
      [c.blockIdAt(i), c.groupIdAt(i), c.isCustodialAt(i), c.sizeAt(i), c.lastUpdateAt(i), c.partitionsAt(i)],
      [r.blockId, r.groupId, r.isCustodial, r.size, r.lastUpdate, r.partitions],
    );
    assertEquals(c.isCompleteAt(i), r.fileIds === null);
  }
  const records = [...c];
  for (const mask of [0, 0b001, 0b010, 0b011, 0b111]) {
    assertEquals(c.allInMask(mask), records.every((r) => (r.partitions & mask) !== 0), `mask ${mask}`);
  }
  for (const groups of [[], [0], [4], [5], [0, 4]]) {
    assertEquals(c.anyOwnedBy(new Set(groups)), records.some((r) => groups.includes(r.groupId)), `${groups}`);
  }
  for (const g of [0, 4, 5]) {
    assertEquals(
      c.allOwnedBy(g),
      records.every((r) => r.groupId === g),
      `group ${g}`,
    );
  }
  assert(
    BlockReplicaColumns.of(7, [br(1, { groupId: 4 }), br(2, { groupId: 4, isCustodial: true })]).allOwnedBy(
      4,
    ),
  );
  const empty = BlockReplicaColumns.empty(7);
  assert(empty.allInMask(0b1) && empty.allOwnedBy(3) && !empty.anyOwnedBy(new Set([3])));
  // The largest group id, custodial: the packed owner is 2^31 - 1, still read exactly.
  const edge = BlockReplicaColumns.of(7, [br(1, { groupId: MAX_COLUMN_ID, isCustodial: true })]);
  assertEquals([edge.groupIdAt(0), edge.isCustodialAt(0), edge.allOwnedBy(MAX_COLUMN_ID)], [
    MAX_COLUMN_ID,
    true,
    true,
  ]);
  assertEquals(edge.at(0), br(1, { groupId: MAX_COLUMN_ID, isCustodial: true }));
});

/** The summaries as a scan of the rows computes them (what readers relied on before they existed). */
function scanned(c: BlockReplicaColumns) {
  const rows = [...c];
  const integral = rows.every((r) => r.size >= 0 && Number.isSafeInteger(r.size));
  const total = rows.reduce((s, r) => s + r.size, 0);
  return {
    newest: rows.reduce((m, r) => Math.max(m, r.lastUpdate), Number.NEGATIVE_INFINITY),
    total: integral && Number.isSafeInteger(total) ? total : Number.NaN,
    all: rows.reduce((m, r) => m & r.partitions, 0x7fffffff),
    any: rows.reduce((m, r) => m | r.partitions, 0),
  };
}

function summaries(c: BlockReplicaColumns) {
  return { newest: c.newestUpdate, total: c.exactTotalSize, all: c.partitionsOfAll, any: c.partitionsOfAny };
}

Deno.test("sealed columns' summaries are a scan of their rows, and follow deletions (the newest too)", () => {
  let c = BlockReplicaColumns.of(7, [
    br(1, { lastUpdate: 100, size: 10, partitions: 0b011 }),
    br(2, { lastUpdate: 300, size: 20, partitions: 0b001 }),
    br(3, { lastUpdate: 200, size: 30, partitions: 0b101 }),
  ]);
  assertEquals(summaries(c), { newest: 300, total: 60, all: 0b001, any: 0b111 });
  // Deleting the newest: a maximum is not monotone under deletion; the new version has its own.
  const edited = c.copy();
  edited.remove(2);
  assertThrows(() => edited.newestUpdate, Error, "sealed columns only");
  c = edited.seal();
  assertEquals(summaries(c), { newest: 200, total: 40, all: 0b001, any: 0b111 });
  // The original version is untouched (readers of an older snapshot still see it as it was).
  assertEquals(BlockReplicaColumns.of(7, [br(2, { lastUpdate: 300 })]).newestUpdate, 300);
  // Replacing a row (owner, partitions, time) changes them too.
  const replaced = c.copy();
  replaced.put(br(3, { lastUpdate: 50, size: 30, partitions: 0b010 }));
  assertEquals(summaries(replaced.seal()), { newest: 100, total: 40, all: 0b010, any: 0b011 });
  // Nothing left: no newest, no size, every bit (vacuously) in all rows, none in any.
  const none = replaced.copy();
  none.clear();
  assertEquals(summaries(none.seal()), scanned(BlockReplicaColumns.empty(7)));
  assertEquals(summaries(BlockReplicaColumns.empty(7)), {
    newest: Number.NEGATIVE_INFINITY,
    total: 0,
    all: 0x7fffffff,
    any: 0,
  });
});

Deno.test("the exact total is NaN unless every size and the sum are non-negative safe integers", () => {
  const total = (sizes: number[]) =>
    BlockReplicaColumns.of(7, sizes.map((size, i) => br(i + 1, { size }))).exactTotalSize;
  assertEquals(total([1, 2, 3]), 6);
  assertEquals(total([1, 0.5]), Number.NaN);
  assertEquals(total([1, -1]), Number.NaN);
  assertEquals(total([Number.MAX_SAFE_INTEGER, 1]), Number.NaN);
  assertEquals(total([2 ** 52, 2 ** 52 - 1]), 2 ** 53 - 1);
});

Deno.test("summaries agree with a scan on many random columns, edited and sealed again", () => {
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  let c = BlockReplicaColumns.empty(7);
  for (let round = 0; round < 200; round++) {
    const next = c.copy();
    for (let k = 0; k < 5; k++) {
      const id = 1 + rand(40);
      if (rand(3) === 0) next.remove(id);
      else {
        next.put(br(id, {
          size: rand(5) === 0 ? rand(1000) / 8 : rand(1e6),
          lastUpdate: 1_700_000_000 + rand(1e6),
          partitions: rand(8),
        }));
      }
    }
    c = next.seal();
    assertEquals(summaries(c), scanned(c), `round ${round}`);
  }
});
