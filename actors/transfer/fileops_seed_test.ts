import { assert, assertEquals, assertNotEquals } from "../../tests/helpers/assert.ts";
import { freshDatabase } from "../../tests/helpers/db.ts";
import { fileopsFederation } from "../../tests/helpers/fileops.ts";
import { SeededRng } from "../runtime/mod.ts";

/** Copies 24 files that four sites hold to a fifth in one pass; the source each file came from, by file. */
async function sourcesChosen(seed: number): Promise<string[]> {
  const { db, cleanup } = await freshDatabase("pglite");
  try {
    const sources = ["T2_A", "T2_C", "T2_D", "T2_E"];
    const f = await fileopsFederation(db, [...sources, "T2_B"].map((name) => ({ name })), {
      rng: new SeededRng(seed),
    });
    try {
      await f.dataset("/Seeded/Choice/AOD", 24, sources, 100);
      await f.scheduleCopy("/Seeded/Choice/AOD", "T2_B");
      const summary = await f.pass();
      assertEquals([summary.transfers_done, summary.transfers_failed], [24, 0]);
      const history = await f.call("GET", "/data/transfers/history?limit=1000");
      const rows = history.body.data as { lfn: string; source: string }[];
      assertEquals(rows.length, 24);
      return rows.sort((a, b) => (a.lfn < b.lfn ? -1 : 1)).map((r) => r.source);
    } finally {
      await f.close();
    }
  } finally {
    await cleanup();
  }
}

Deno.test("the injected seed decides the copies' sources: one seed, the same sources; another, others", async () => {
  const first = await sourcesChosen(3);
  assertEquals(await sourcesChosen(3), first);
  assert(new Set(first).size > 1, `one seed still spreads the files over the sources: ${first}`);
  assertNotEquals(await sourcesChosen(4), first);
});
