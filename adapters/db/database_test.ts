import { assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";

dbTest("streamArrays hands every row over in order, as arrays", async ({ db }) => {
  if (!db.streamArrays) return; // PostgreSQL only; PGlite reads in pages
  const seen: unknown[][] = [];
  await db.streamArrays(
    "SELECT i, 'n' || i, i % 2 = 0, i::bigint * 1000000000 FROM generate_series(1, 3000) AS i ORDER BY i",
    [],
    (row) => seen.push(row),
  );
  assertEquals(seen.length, 3000);
  assertEquals(seen[0], [1, "n1", false, 1_000_000_000]);
  assertEquals(seen[2999], [3000, "n3000", true, 3_000_000_000_000]);
});

dbTest("streamArrays stops at the first row its callback refuses, and the pool goes on", async ({ db }) => {
  if (!db.streamArrays) return;
  let calls = 0;
  const error = await assertRejects(() =>
    db.streamArrays!("SELECT i FROM generate_series(1, 200000) AS i", [], (row) => {
      calls += 1;
      if (row[0] === 10) throw new Error("row 10 refused");
    })
  );
  assertEquals((error as Error).message, "row 10 refused");
  assertEquals(calls, 10); // no row after the refused one reaches the callback
  assertEquals(await db.queryArrays("SELECT 1 + 1"), [[2]]);
});
