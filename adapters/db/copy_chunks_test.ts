import { assertEquals } from "../../tests/helpers/assert.ts";
import { inChunks, nextChunkRows } from "./copy_chunks.ts";

Deno.test("a COPY chunk is sized to about 20 ms from the previous one, within 200 and 10,000 rows", () => {
  assertEquals(nextChunkRows(1_000, 10), 2_000); // twice as fast as the target: twice the rows
  assertEquals(nextChunkRows(1_000, 100), 200); // slow (or a loaded machine): down to the floor
  assertEquals(nextChunkRows(1_000, 40), 500);
  assertEquals(nextChunkRows(1_000, 0), 10_000); // under a millisecond: capped
  assertEquals(nextChunkRows(5, 0), 200);
});

Deno.test("chunks take the size asked before each one, and keep every row in order", () => {
  const sizes = [2, 3, 1, 2];
  let n = 0;
  const rows = Array.from({ length: 8 }, (_, i) => i);
  const chunks: number[][] = [];
  for (const c of inChunks(rows, () => sizes[n]!)) {
    chunks.push(c);
    n++;
  }
  assertEquals(chunks, [[0, 1], [2, 3, 4], [5], [6, 7]]);
  assertEquals([...inChunks([], () => 5)], []);
});
