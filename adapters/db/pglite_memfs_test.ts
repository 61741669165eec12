import { assertEquals } from "../../tests/helpers/assert.ts";
import { openDatabase } from "./database.ts";
import {
  DOUBLING_MAX,
  growFilesGeometrically,
  grownCapacity,
  type Memfs,
  type MemfsNode,
} from "./pglite_memfs.ts";

/** MEMFS's own two functions, as in Emscripten (the patch must keep their contract). */
function emscriptenMemfs(): Memfs {
  const memfs: Memfs = {
    expandFileStorage(node, newCapacity) {
      const prev = node.contents.length;
      if (prev >= newCapacity) return;
      newCapacity = Math.max(newCapacity, (prev * (prev < 1048576 ? 2 : 1.125)) >>> 0);
      if (prev) newCapacity = Math.max(newCapacity, 256);
      const old = node.contents.subarray(0, node.usedBytes);
      node.contents = new Uint8Array(newCapacity);
      node.contents.set(old);
    },
    resizeFileStorage(node, newSize) {
      if (node.usedBytes === newSize) return;
      const old = node.contents;
      node.contents = new Uint8Array(newSize);
      node.contents.set(old.subarray(0, Math.min(newSize, node.usedBytes)));
      node.usedBytes = newSize;
    },
  };
  return memfs;
}

const sameBytes = (a: MemfsNode, b: MemfsNode) =>
  a.usedBytes === b.usedBytes && a.contents.subarray(0, a.usedBytes).every((x, i) => x === b.contents[i]);

Deno.test("a file lengthened page by page is copied a logarithmic number of times", () => {
  const memfs = emscriptenMemfs();
  assertEquals(growFilesGeometrically(memfs), true);
  assertEquals(growFilesGeometrically(memfs), false); // once only
  const node: MemfsNode = { contents: new Uint8Array(0), usedBytes: 0 };
  const arrays = new Set<Uint8Array>();
  for (let pages = 1; pages <= 2_000; pages++) {
    memfs.resizeFileStorage(node, pages * 8192);
    node.contents[node.usedBytes - 1] = pages % 251; // the page's last byte, as PostgreSQL writes it
    arrays.add(node.contents);
  }
  assertEquals(node.usedBytes, 2_000 * 8192);
  // Exact resizing made 2,000 arrays (one per page); MEMFS's doubling to 1 MiB and then an eighth ~45;
  // doubling all the way to 16 MB, 16.
  assertEquals(arrays.size <= 16, true, `${arrays.size} arrays`);
  for (let pages = 1; pages <= 2_000; pages++) assertEquals(node.contents[pages * 8192 - 1], pages % 251);
});

Deno.test("a file written 8 KB at a time is copied a few times, not once per eighth it grows", () => {
  // A new 16 MB WAL segment is written full of zeros this way (wal_init_zero); MEMFS's own growth
  // made ~27 arrays for it, each a copy of all the segment so far.
  const memfs = emscriptenMemfs();
  growFilesGeometrically(memfs);
  const node: MemfsNode = { contents: new Uint8Array(0), usedBytes: 0 };
  const arrays = new Set<Uint8Array>();
  let copied = 0;
  for (let at = 0; at < 16 * 1024 * 1024; at += 8192) {
    const before = node.contents;
    memfs.expandFileStorage(node, at + 8192); // what MEMFS's write does first
    if (node.contents !== before) copied += node.usedBytes;
    node.contents.fill(at / 8192 % 251, at, at + 8192);
    node.usedBytes = at + 8192;
    arrays.add(node.contents);
  }
  assertEquals(arrays.size <= 13, true, `${arrays.size} arrays`); // 8 KB doubled to 16 MB
  assertEquals(copied < 16 * 1024 * 1024, true, `${copied} bytes copied`);
  for (let at = 0; at < 16 * 1024 * 1024; at += 1024 * 1024) assertEquals(node.contents[at], at / 8192 % 251);
});

Deno.test("capacity doubles up to DOUBLING_MAX, then grows by half, never below what is needed", () => {
  assertEquals(grownCapacity(0, 10), 256);
  assertEquals(grownCapacity(1000, 1001), 2000);
  assertEquals(grownCapacity(1000, 5000), 5000);
  assertEquals(grownCapacity(DOUBLING_MAX / 2, DOUBLING_MAX / 2 + 1), DOUBLING_MAX);
  assertEquals(grownCapacity(DOUBLING_MAX, DOUBLING_MAX + 1), DOUBLING_MAX * 1.5);
  assertEquals(grownCapacity(600_000_000, 600_000_001), 900_000_000);
  assertEquals(grownCapacity(600_000_000, 2_000_000_000), 2_000_000_000);
});

Deno.test("lengthening reads back zeros, shortening keeps the head, as MEMFS's own truncate does", () => {
  const patched = emscriptenMemfs();
  growFilesGeometrically(patched);
  const reference = emscriptenMemfs();
  const a: MemfsNode = { contents: new Uint8Array(0), usedBytes: 0 };
  const b: MemfsNode = { contents: new Uint8Array(0), usedBytes: 0 };
  const steps: [size: number, fill: number][] = [
    [10, 1],
    [300, 2],
    [5, 0],
    [5, 3],
    [400, 0],
    [0, 0],
    [7, 4],
    [
      2_000_000,
      5,
    ],
    [1_000, 0],
    [1_500_000, 0],
  ];
  for (const [size, fill] of steps) {
    for (const node of [a, b]) {
      (node === a ? patched : reference).resizeFileStorage(node, size);
      // Write over the first half, as a file's owner would between truncates.
      if (fill) node.contents.fill(fill, 0, size >> 1);
    }
    assertEquals(a.usedBytes, size);
    assertEquals(sameBytes(a, b), true, `after resizing to ${size}`);
  }
});

Deno.test("in-memory PGlite grows, truncates and regrows tables correctly with the patch", async () => {
  const db = await openDatabase();
  try {
    await db.exec("CREATE TABLE t (id integer PRIMARY KEY, v text NOT NULL)");
    const rows = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => [from + i, `row ${from + i} ${"x".repeat(i % 300)}`]);
    await db.copyFrom("t", ["id", "v"], rows(0, 10_000));
    await db.exec("DELETE FROM t WHERE id >= 100");
    await db.exec("VACUUM t"); // truncates the file
    await db.copyFrom("t", ["id", "v"], rows(100, 15_000));
    const [[count, sum, last]] = await db.queryArrays(
      "SELECT count(*)::int, sum(length(v))::int, max(v) FILTER (WHERE id = 15099) FROM t",
    ) as [[number, number, string]];
    const expected = [...rows(0, 100), ...rows(100, 15_000)].map((r) => r[1] as string);
    assertEquals(count, 15_100);
    assertEquals(sum, expected.reduce((s, v) => s + v.length, 0));
    assertEquals(last, expected[15_099]);
  } finally {
    await db.close();
  }
});
