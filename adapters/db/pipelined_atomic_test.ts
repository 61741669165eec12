import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { PipelinedWrites } from "./pipelined_writes.ts";

dbTest(
  "a pipelined statement the driver refuses before sending it leaves nothing committed",
  async ({ db }) => {
    await db.exec("CREATE TABLE pwa (id integer PRIMARY KEY, note text)");
    // postgres.js refuses an undefined parameter in the client (UNDEFINED_VALUE): the server never sees
    // the statement, so a COMMIT already sent behind it would commit the others.
    const outcome = await db.bulkTransaction(async (raw) => {
      const tx = new PipelinedWrites(raw);
      await tx.query("INSERT INTO pwa VALUES ($1, $2)", [1, "a"]);
      await tx.query("INSERT INTO pwa VALUES ($1, $2)", [2, undefined]);
      await tx.query("INSERT INTO pwa VALUES ($1, $2)", [3, "c"]);
      await tx.finish();
    }).then(() => "committed", (e: Error) => e.message);
    const ids = (await db.queryArrays("SELECT id FROM pwa ORDER BY id")).map((r) => r[0]);
    if (outcome === "committed") assertEquals(ids, [1, 2, 3], "all of it"); // PGlite sends undefined as NULL
    else {
      assert(db.kind === "postgres", `unexpected failure on ${db.kind}: ${outcome}`);
      assertEquals(ids, [], `failed with "${outcome}", yet committed part of it`);
    }
  },
);
