/**
 * Issue 16 end to end: a POSIX site and a real XRootD site with injected
 * faults (deleted files, extra files, a truncated file, a young file, a file
 * of a dataset being deleted, an empty directory, a directory that cannot be
 * read, hostile names) are checked, confirmed a day later, repaired through
 * the file-operations queue and the storage, and a last run finds nothing.
 */
import { checkSite, invalidateUnrecoverable } from "../../actors/agents/consistency_check.ts";
import type { TreeReader, TreeRecord } from "../../adapters/storage/listing_port.ts";
import { StorageError } from "../../adapters/storage/storage_port.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { databaseKinds, freshDatabase } from "../helpers/db.ts";
import { age, consistencyFederation, DAY } from "../helpers/consistency.ts";
import { DEFAULT_SITE_CONSISTENCY } from "../../policies/consistency/consistency_config.ts";
import { startXrootd, xrootdAvailable, type XrootdServer } from "../helpers/xrootd_server.ts";

const xrootd = await xrootdAvailable();
const DEFAULT_LISTING = DEFAULT_SITE_CONSISTENCY.listing;

async function sh(script: string, cwd: string) {
  const out = await new Deno.Command("sh", { args: ["-c", script], cwd }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
}

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

async function scenario(kind: "pglite" | "postgres", server: XrootdServer | null) {
  const { db, cleanup } = await freshDatabase(kind);
  const broken = { on: true };
  const f = await consistencyFederation(db, {
    ...(server ? { xrootd: server } : { wrapReader: unreadable("/store/locked", broken) }),
  });
  const { root } = f;
  try {
    // Faults.
    const one = f.one.map((x) => x.lfn);
    const two = f.two.map((x) => x.lfn);
    await Deno.remove(`${root}${one[0]}`);
    await Deno.remove(`${root}${one[1]}`);
    await Deno.truncate(`${root}${one[2]}`, 10); // corrupt
    await age(`${root}${one[2]}`);
    await Deno.remove(`${root}${two[0]}`); // no other copy anywhere: unrecoverable
    await f.scheduleDeletion("/Gone/Run-v1/AOD", "T2_SITE");
    await Deno.remove(`${root}${f.del[0]!.lfn}`); // its dataset is being deleted: not missing
    await Deno.mkdir(`${root}/store/junk`, { recursive: true });
    await Deno.writeTextFile(`${root}/store/junk/orphan1.root`, "orphan one");
    await Deno.writeTextFile(`${root}/store/one/run-v1/aod/orphan2.root`, "orphan two");
    await Deno.writeTextFile(`${root}/store/junk/young.root`, "being written"); // young: real mtime
    await Deno.mkdir(`${root}/store/empty/dir`, { recursive: true });
    await Deno.mkdir(`${root}/store/locked/inner`, { recursive: true });
    await Deno.writeTextFile(`${root}/store/locked/inner/hidden.root`, "unreadable orphan");
    if (server) await sh(`printf x > "$(printf 'store/junk/bad\\377name')"`, root);
    else await sh(`printf x > "$(printf 'store/junk/new\\nline')" && ln -s /etc store/junk/escape`, root);
    for (
      const p of [
        "store/junk/orphan1.root",
        "store/one/run-v1/aod/orphan2.root",
        "store/empty/dir",
        "store/empty",
        "store/junk",
        "store/locked/inner/hidden.root",
        "store/locked/inner",
        "store/locked",
      ]
    ) {
      await age(`${root}/${p}`);
    }
    if (server) {
      await sh(`chown -R xrootd: ${server.root}`, "/");
      await Deno.chmod(`${root}/store/locked`, 0o000);
    }

    // Run 1: the unreadable directory makes the run incomplete; nothing is acted on.
    const r1 = await checkSite(f.deps, "T2_SITE");
    assertEquals(r1.complete, false);
    assertEquals(r1.failedDirs.map((d) => d.dir), ["/store/locked"]);
    assertEquals([r1.missing, r1.corrupt, r1.orphan, r1.emptyDirs], [3, 1, 2, 1]);
    assertEquals(r1.acted, 0);
    assert(r1.hostile >= 1, `hostile ${r1.hostile}`);

    // The directory is readable again: run 2 is complete, but nothing is confirmed yet.
    broken.on = false;
    if (server) await Deno.chmod(`${root}/store/locked`, 0o755);
    await f.clock.advance(DAY / 2);
    const r2 = await checkSite(f.deps, "T2_SITE");
    assertEquals(r2.complete, true);
    // Only the empty directory is acted on: it needs no confirmation (its age protects new ones).
    assertEquals([r2.missing, r2.corrupt, r2.orphan, r2.confirmed, r2.acted], [3, 1, 3, 0, 1]);
    assert(!(await exists(`${root}/store/empty/dir`)));

    // Run 3, a day later: both complete runs saw the same problems; they are repaired.
    await f.clock.advance(DAY);
    const dry = await checkSite(f.deps, "T2_SITE", { dryRun: true });
    assertEquals([dry.confirmed, dry.acted, dry.withheld], [7, 0, "dry run"]); // it says what it would do
    const r3 = await checkSite(f.deps, "T2_SITE");
    assertEquals([r3.missing, r3.corrupt, r3.orphan, r3.unrecoverable], [3, 1, 3, 1]);
    assertEquals(r3.confirmed, 7);
    assertEquals(r3.withheld, null);
    for (const p of ["/store/junk/orphan1.root", "/store/one/run-v1/aod/orphan2.root"]) {
      assert(!(await exists(`${root}${p}`)), `${p} was not deleted`);
    }
    assert(await exists(`${root}/store/junk/young.root`), "a young file was deleted");
    if (!server) assert(await exists(`${root}/store/junk/escape`), "a symlink was acted on");
    // The file-operations queue copies the lost and corrupt files back from T2_COPY.
    const pass = await f.pass();
    assertEquals(pass.transfers_done, 3, JSON.stringify(pass));
    for (const x of f.one.slice(0, 3)) assertEquals(await Deno.readFile(`${root}${x.lfn}`), x.bytes);
    assertEquals(
      f.blockReplica("/One/Run-v1/AOD", "T2_SITE")?.fileIds,
      null,
      "the replica is complete again",
    );
    // The unrecoverable file is invalidated on an operator's word.
    const inv = await invalidateUnrecoverable(f.deps, "T2_SITE");
    assertEquals(inv.invalidated, 1, JSON.stringify(inv));

    // Run 4 finds nothing (the hostile names are still reported, never touched).
    await f.clock.advance(DAY);
    const r4 = await checkSite(f.deps, "T2_SITE");
    assertEquals([r4.complete, r4.missing, r4.corrupt, r4.orphan, r4.unrecoverable], [true, 0, 0, 0, 0]);
    assert(r4.hostile >= 1);
  } finally {
    if (server) await Deno.chmod(`${root}/store/locked`, 0o755).catch(() => {});
    await f.close().catch(() => {});
    await cleanup();
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

for (const kind of databaseKinds()) {
  Deno.test({
    name: `consistency: a POSIX site with faults is checked, confirmed, repaired, and found clean [${kind}]`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () => scenario(kind, null),
  });
}

Deno.test({
  name:
    "consistency: a real XRootD site with faults is checked, confirmed, repaired, and found clean [pglite]",
  ignore: !xrootd,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await startXrootd();
    try {
      await scenario("pglite", server);
    } finally {
      await server.stop();
    }
  },
});

for (const kind of databaseKinds()) {
  Deno.test({
    name: `consistency: above a threshold, or listed empty, a site is flagged and nothing is done [${kind}]`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const { db, cleanup } = await freshDatabase(kind);
      const f = await consistencyFederation(db, {
        site: { maxOrphan: { count: 1, fraction: Infinity }, maxMissing: { count: 5, fraction: 0.5 } },
      });
      try {
        for (const x of f.one.slice(0, 6)) await Deno.remove(`${f.root}${x.lfn}`);
        for (const name of ["a", "b", "c"]) {
          await Deno.writeTextFile(`${f.root}/store/one/run-v1/aod/${name}.root`, name);
          await age(`${f.root}/store/one/run-v1/aod/${name}.root`);
        }
        const first = await checkSite(f.deps, "T2_SITE");
        await f.clock.advance(2 * DAY);
        const second = await checkSite(f.deps, "T2_SITE");
        for (const r of [first, second]) {
          assertEquals([r.complete, r.flagged, r.missing, r.orphan, r.acted], [true, true, 6, 3, 0]);
        }
        assertEquals(second.confirmed, 9); // confirmed, and still not acted on
        assert(second.flagReasons.some((x) => x.includes("max_missing")), second.flagReasons.join("; "));
        assert(second.flagReasons.some((x) => x.includes("max_orphan")), second.flagReasons.join("; "));
        assert(second.withheld!.startsWith("flagged"));
        assert(await Deno.lstat(`${f.root}/store/one/run-v1/aod/a.root`).then(() => true));
        assertEquals(
          f.blockReplica("/One/Run-v1/AOD", "T2_SITE")?.fileIds,
          null,
          "the inventory is untouched",
        );

        // A site whose storage lists empty (an unmounted disk) is above every threshold.
        f.setSiteConfig({
          maxMissing: { count: Infinity, fraction: 1 },
          maxOrphan: { count: Infinity, fraction: 1 },
        });
        await Deno.rename(`${f.root}/store`, `${f.root}/unmounted`);
        await f.clock.advance(2 * DAY);
        const empty = await checkSite(f.deps, "T2_SITE");
        assertEquals([empty.flagged, empty.acted, empty.filesListed], [true, 0, 0]);
        assert(empty.flagReasons[0]!.includes("listed empty"), empty.flagReasons[0]);
      } finally {
        await f.close().catch(() => {});
        await cleanup();
      }
    },
  });

  Deno.test({
    name: `consistency: a check interrupted mid-listing leaves no half-recorded run [${kind}]`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const { db, cleanup } = await freshDatabase(kind);
      const f = await consistencyFederation(db, {
        site: { listing: { ...DEFAULT_LISTING, concurrency: 1 } },
      });
      try {
        await Deno.remove(`${f.root}${f.one[0]!.lfn}`);
        const abort = new AbortController();
        let batches = 0;
        const deps = {
          ...f.deps,
          onProgress: () => {
            if (++batches === 2) abort.abort(new Error("the process died"));
          },
        };
        let error: unknown = null;
        await checkSite(deps, "T2_SITE", { signal: abort.signal }).catch((e) => (error = e));
        assert(error instanceof Error && error.message === "the process died", String(error));
        assertEquals(await db.queryArrays("SELECT count(*) FROM consistency_runs"), [[0]]);
        assertEquals(await db.queryArrays("SELECT count(*) FROM consistency_findings"), [[0]]);
        // The next check runs from scratch.
        const r = await checkSite(f.deps, "T2_SITE");
        assertEquals([r.complete, r.missing], [true, 1]);
      } finally {
        await f.close().catch(() => {});
        await cleanup();
      }
    },
  });
}
