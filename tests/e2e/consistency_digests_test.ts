/**
 * Per-directory digests end to end (issue 16): a POSIX site with faults is
 * checked again and again; unchanged directories are skipped and their
 * findings carried over, and whatever could make a directory's comparison
 * come out differently (a changed, added or removed file, a young file, other
 * settings, an incomplete last run, garbage in the stored digests, a deletion
 * under way) makes it compared again. A problem carried over by a skipped run
 * is still confirmed and repaired; a fixed one is never acted on.
 */
import { checkSite } from "../../actors/agents/consistency_check.ts";
import type { TreeReader, TreeRecord } from "../../adapters/storage/listing_port.ts";
import { StorageError } from "../../adapters/storage/storage_port.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { age, consistencyFederation, DAY } from "../helpers/consistency.ts";
import { databaseKinds, freshDatabase } from "../helpers/db.ts";

const HOUR = 3600_000;

/** A reader that cannot read one directory while `broken` holds (POSIX under root ignores chmod). */
function unreadable(dir: string, broken: { on: boolean }) {
  return (reader: TreeReader): TreeReader => ({
    kind: reader.kind,
    recursive: reader.recursive,
    async *listTree(d, options): AsyncGenerator<TreeRecord[]> {
      if (broken.on && (d === dir || (options.recursive && dir.startsWith(d + "/")))) {
        throw new StorageError("EACCES", d, "permission denied");
      }
      yield* reader.listTree(d, options);
    },
  });
}

for (const kind of databaseKinds()) {
  Deno.test({
    name:
      `consistency digests: unchanged directories are skipped, changed ones compared, findings kept [${kind}]`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const { db, cleanup } = await freshDatabase(kind);
      const broken = { on: false };
      const f = await consistencyFederation(db, { wrapReader: unreadable("/store/two", broken) });
      const { root } = f;
      const aod1 = `${root}/store/one/run-v1/aod`;
      const aod2 = `${root}/store/two/run-v1/aod`;
      const one = f.one.map((x) => `${root}${x.lfn}`);
      const two = f.two.map((x) => `${root}${x.lfn}`);
      const check = (options: { dryRun?: boolean } = {}) => checkSite(f.deps, "T2_SITE", options);
      const findings = async (runId: number) =>
        (await f.deps.store.findings(runId, { offset: 0, limit: 1000 })).rows
          .filter((r) => ["missing", "orphan", "corrupt"].includes(r.kind))
          .map((r) => `${r.kind} ${r.path} ${r.size} ${r.listedSize} ${r.lfn} ${r.dataset} ${r.block}`)
          .sort();
      const digestRows = async (runId: number) =>
        Number(
          (await db.queryArrays(`SELECT count(*) FROM consistency_digests WHERE run_id = $1`, [runId]))[0]![
            0
          ],
        );
      const write = async (path: string, text: string) => {
        await Deno.writeTextFile(path, text);
        await age(path);
      };
      try {
        // Faults: a lost file, an orphan, a truncated file.
        await Deno.remove(one[0]!);
        await write(`${aod1}/orphan.root`, "orphan");
        await Deno.truncate(two[0]!, 10);
        await age(two[0]!);

        const r1 = await check();
        assertEquals([r1.complete, r1.dirsSkipped, r1.missing, r1.orphan, r1.corrupt], [true, 0, 1, 1, 1]);
        const dirs = await digestRows(r1.runId);
        assert(dirs >= 10, `${dirs} directories with digests`); // /store, three datasets' three levels

        // An unchanged site: every directory skipped, the same findings, the older digests dropped.
        await f.clock.advance(HOUR);
        const r2 = await check();
        assertEquals([r2.dirsSkipped, r2.missing, r2.orphan, r2.corrupt], [dirs, 1, 1, 1]);
        assertEquals(r2.filesListed, r1.filesListed);
        assertEquals(await findings(r2.runId), await findings(r1.runId));
        assertEquals([await digestRows(r1.runId), await digestRows(r2.runId)], [0, dirs]);
        assertEquals([r2.confirmed, r2.acted], [0, 0]); // the first run is less than confirm_after old

        // A file added, one resized, one removed: only its directory is compared again.
        await write(`${aod2}/added.root`, "added");
        await f.clock.advance(HOUR);
        const r3 = await check();
        assertEquals([r3.dirsSkipped, r3.orphan], [dirs - 1, 2]);
        assertEquals(
          await findings(r3.runId),
          [...await findings(r2.runId), `orphan /store/two/run-v1/aod/added.root 5 5 null null null`].sort(),
        );
        await Deno.truncate(two[1]!, 5);
        await age(two[1]!);
        await f.clock.advance(HOUR);
        const r4 = await check();
        assertEquals([r4.dirsSkipped, r4.corrupt, r4.orphan], [dirs - 1, 2, 2]);
        await Deno.remove(`${aod2}/added.root`);
        await f.clock.advance(HOUR);
        const r5 = await check();
        assertEquals([r5.dirsSkipped, r5.corrupt, r5.orphan], [dirs - 1, 2, 1]);

        // A file made young (same name and size) is compared, and again once old (it was not clean).
        await Deno.utime(one[6]!, new Date(f.clock.now()), new Date(f.clock.now()));
        await f.clock.advance(HOUR);
        const young = await check();
        assertEquals([young.dirsSkipped, young.missing, young.corrupt], [dirs - 1, 1, 2]);
        await age(one[6]!);
        await f.clock.advance(HOUR);
        assertEquals((await check()).dirsSkipped, dirs - 1);
        await f.clock.advance(HOUR);
        assertEquals((await check()).dirsSkipped, dirs);

        // Other settings: everything is compared once.
        f.setSiteConfig({ ignoreDirs: ["/nothing"] });
        await f.clock.advance(HOUR);
        assertEquals((await check()).dirsSkipped, 0);
        await f.clock.advance(HOUR);
        assertEquals((await check()).dirsSkipped, dirs);

        // After an incomplete run, everything is compared once.
        broken.on = true;
        await f.clock.advance(HOUR);
        const incomplete = await check();
        assertEquals([incomplete.complete, incomplete.failedDirs.map((d) => d.dir)], [false, ["/store/two"]]);
        broken.on = false;
        await f.clock.advance(HOUR);
        const afterIncomplete = await check();
        assertEquals([afterIncomplete.complete, afterIncomplete.dirsSkipped], [true, 0]);

        // Garbage in the stored digests and findings: those directories are compared, the findings hold.
        const last = afterIncomplete.runId;
        await db.queryArrays(
          `UPDATE consistency_digests SET listed = 'garbage' WHERE run_id = $1 AND dir = '/store/one/run-v1/aod'`,
          [last],
        );
        await db.queryArrays(
          `INSERT INTO consistency_digests (run_id, dir, listed, inventory, clean)
           SELECT run_id, dir, 'v1:0:0:0', inventory, true FROM consistency_digests
            WHERE run_id = $1 AND dir = '/store/gone/run-v1/aod'`,
          [last],
        );
        await db.queryArrays(
          `UPDATE consistency_findings SET size = -1 WHERE run_id = $1 AND kind = 'corrupt' AND path LIKE '/store/two/%'`,
          [last],
        );
        await f.clock.advance(HOUR);
        const garbage = await check();
        assertEquals(garbage.dirsSkipped, dirs - 3);
        assertEquals(await findings(garbage.runId), await findings(r5.runId));

        // Confirmation across skipped runs: a run that skips everything, a day later one that skips the
        // directory of the lost file and the orphan (carried over twice), after a truncated file was fixed.
        await f.clock.advance(HOUR);
        const seen = await check();
        assertEquals([seen.dirsSkipped, seen.corrupt], [dirs, 2]);
        await Deno.writeFile(two[1]!, f.two[1]!.bytes);
        await age(two[1]!);
        await f.clock.advance(DAY + HOUR);
        const act = await check();
        assertEquals([act.dirsSkipped, act.missing, act.orphan, act.corrupt], [dirs - 1, 1, 1, 1]);
        // The lost file is copied again, the orphan deleted; the truncated file has no other copy.
        assertEquals([act.confirmed, act.acted, act.unrecoverable], [3, 2, 1]);
        assert(!(await exists(`${aod1}/orphan.root`)), "the confirmed orphan was not deleted");
        const subscribed = await db.queryArrays(
          `SELECT lfn FROM file_subscriptions WHERE site = 'T2_SITE' AND kind = 'copy' ORDER BY lfn`,
        );
        assertEquals(subscribed.map((r) => r[0]), [f.one[0]!.lfn]);
        assertEquals(await Deno.readFile(two[1]!), f.two[1]!.bytes, "the fixed file was touched");
        // The copies come back; the repaired directories are compared again and found clean.
        const pass = await f.pass();
        assertEquals(pass.transfers_done, 1, JSON.stringify(pass));
        await f.clock.advance(HOUR);
        const clean = await check();
        assertEquals([clean.missing, clean.orphan, clean.corrupt], [0, 0, 1]);
        assert(clean.dirsSkipped < dirs, `${clean.dirsSkipped} skipped after repairs`);

        // A deletion of a dataset there under way: its directory is compared (a dry run: nothing acted on).
        await f.clock.advance(HOUR);
        const settled = await check();
        // The unrecoverable file's directory is acted on (listed) each run: it is always compared.
        assertEquals(settled.dirsSkipped, dirs - 1);
        await f.scheduleDeletion("/Gone/Run-v1/AOD", "T2_SITE");
        await f.clock.advance(3 * DAY); // the replica's change is old by then: only the deletion counts
        const deleting = await check({ dryRun: true });
        assertEquals(deleting.dirsSkipped, dirs - 2);
      } finally {
        await f.close().catch(() => {});
        await cleanup();
      }
    },
  });
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}
