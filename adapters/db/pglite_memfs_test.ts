import { assertEquals } from "../../tests/helpers/assert.ts";
import { openDatabase } from "./database.ts";
import { growFilesGeometrically, type Memfs, type MemfsNode } from "./pglite_memfs.ts";

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
  // Exact resizing made 2,000 arrays (one per page); doubling to 1 MiB and then an eighth, ~45.
  assertEquals(arrays.size < 60, true, `${arrays.size} arrays`);
  for (let pages = 1; pages <= 2_000; pages++) assertEquals(node.contents[pages * 8192 - 1], pages % 251);
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
