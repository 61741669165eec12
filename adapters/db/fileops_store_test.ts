import { assertEquals } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { SqlFileOpsStore } from "./fileops_store.ts";

const file = (lfn: string) => ({
  site: "T2_A",
  lfn,
  dataset: "/A/B/C",
  block: "b1",
  size: 10,
  adler32: null,
});

dbTest(
  "copy subscriptions: open ones are left alone; finished ones renewed only when asked",
  async ({ db }) => {
    const store = new SqlFileOpsStore(db);
    assertEquals(
      await store.subscribeCopies([file("/open"), file("/done"), file("/cancelled")], {
        nowMs: 1,
        renewFinished: false,
      }),
      3,
    );
    await db.queryArrays(
      `UPDATE file_subscriptions SET status = 'inbatch', attempts = 2 WHERE lfn = '/open'`,
    );
    await db.queryArrays(`UPDATE file_subscriptions SET status = 'done' WHERE lfn = '/done'`);
    await db.queryArrays(`UPDATE file_subscriptions SET status = 'cancelled' WHERE lfn = '/cancelled'`);
    const state = async () =>
      (await db.queryArrays(`SELECT lfn, status, attempts, updated_ms FROM file_subscriptions ORDER BY lfn`))
        .map((r) => [r[0], r[1], Number(r[2]), Number(r[3])]);
    const before = await state();

    // The updater's step 3: a finished subscription is the updater's to record, not to copy again.
    const all = [file("/open"), file("/done"), file("/cancelled"), file("/new")];
    assertEquals(await store.subscribeCopies(all, { nowMs: 2, renewFinished: false }), 1);
    assertEquals((await state()).filter((r) => r[0] !== "/new"), before);

    // The consistency check: the file was lost since, so a finished subscription starts over.
    assertEquals(await store.subscribeCopies(all, { nowMs: 3, renewFinished: true }), 2);
    assertEquals(await state(), [
      ["/cancelled", "new", 0, 3],
      ["/done", "new", 0, 3],
      ["/new", "new", 0, 2],
      ["/open", "inbatch", 2, 1],
    ]);
    assertEquals(await store.subscribeCopies([], { nowMs: 4, renewFinished: true }), 0);
  },
);
