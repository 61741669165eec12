import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { fileopsFederation } from "../../tests/helpers/fileops.ts";
import { adler32Hex } from "../../adapters/storage/adler32.ts";

async function checksumAt(path: string): Promise<string> {
  return adler32Hex(await Deno.readFile(path));
}

dbTest(
  "a scheduled copy moves a 200-file dataset file by file, verified, and completes the replica",
  async ({ db }) => {
    const f = await fileopsFederation(db, [{ name: "T2_A" }, { name: "T2_B" }]);
    try {
      const files = await f.dataset("/Big/Copy/AOD", 200, ["T2_A"]);
      await f.scheduleCopy("/Big/Copy/AOD", "T2_B");
      assertEquals(f.blockReplica("/Big/Copy/AOD", "T2_B")?.fileIds, []);
      const summary = await f.pass();
      assertEquals([summary.subscribed, summary.transfers_done, summary.transfers_failed], [200, 200, 0]);
      for (const file of files) {
        assertEquals(await checksumAt(`${f.rootOf("T2_B")}${file.lfn}`), adler32Hex(file.bytes));
      }
      assertEquals(f.blockReplica("/Big/Copy/AOD", "T2_B")?.fileIds, null, "complete");
      const history = await f.call("GET", "/data/transfers/history?limit=1000");
      assertEquals(history.body.data.length, 200);
      assert(
        history.body.data.every((h: { exit_code: number; source: string }) =>
          h.exit_code === 0 && h.source === "T2_A"
        ),
      );
      assertEquals(
        await db.queryArrays("SELECT status, count(*) FROM replica_operations GROUP BY status"),
        [["done", 1]],
      );
      assertEquals(
        await db.queryArrays("SELECT count(*) FROM file_subscriptions"),
        [[0]],
        "processed rows leave",
      );
      const again = await f.pass();
      assertEquals([again.subscribed, again.transfers_done], [0, 0]);
    } finally {
      await f.close();
    }
  },
);

dbTest(
  "a corrupt source fails the checksum, is recorded, and the file comes from another source",
  async ({ db }) => {
    const f = await fileopsFederation(db, [{ name: "T2_A" }, { name: "T2_B" }, { name: "T2_C" }]);
    try {
      const [file] = await f.dataset("/Corrupt/Source/AOD", 1, ["T2_A"]);
      await Deno.writeFile(`${f.rootOf("T2_A")}${file!.lfn}`, new Uint8Array(file!.bytes.length)); // bit rot
      await f.scheduleCopy("/Corrupt/Source/AOD", "T2_B");
      const first = await f.pass();
      assertEquals([first.transfers_done, first.transfers_failed], [0, 1]);
      const current = await f.call("GET", "/data/transfers/current");
      assertEquals(
        current.body.data.map((s: { status: string; attempts: number }) => [s.status, s.attempts]),
        [["retry", 1]],
      );
      const history = await f.call("GET", "/data/transfers/history");
      assertEquals([history.body.data[0].error, history.body.data[0].exit_code], ["ECHECKSUM", 1001]);
      assertEquals(
        await Array.fromAsync(Deno.readDir(f.rootOf("T2_B"))).then((e) => e.length),
        1,
        "only the directory",
      );
      // A good copy appears at T2_C; after the retry delay the file comes from there.
      await Deno.mkdir(`${f.rootOf("T2_C")}/store/corrupt/source/aod`, { recursive: true });
      await Deno.writeFile(`${f.rootOf("T2_C")}${file!.lfn}`, file!.bytes);
      await f.submit([
        { op: "dataset_replica.upsert", dataset: "/Corrupt/Source/AOD", site: "T2_C", group: "AnalysisOps" },
        { op: "block_replica.upsert", dataset: "/Corrupt/Source/AOD", block: "b1", site: "T2_C" },
      ]);
      const early = await f.pass();
      assertEquals(early.transfers_done, 0, "not before the retry delay");
      f.clock.advance(31_000);
      const second = await f.pass();
      assertEquals(second.transfers_done, 1);
      assertEquals(await checksumAt(`${f.rootOf("T2_B")}${file!.lfn}`), adler32Hex(file!.bytes));
      assertEquals(f.blockReplica("/Corrupt/Source/AOD", "T2_B")?.fileIds, null);
    } finally {
      await f.close();
    }
  },
);

dbTest(
  "a site in morgue is evacuated: it serves as a source and its deletions run, but nothing is copied into it",
  async ({ db }) => {
    const f = await fileopsFederation(db, [{ name: "T2_A" }, { name: "T2_B" }, { name: "T2_OLD" }]);
    try {
      const files = await f.dataset("/Evacuate/AOD", 3, ["T2_OLD"]);
      await f.dataset("/Extra/AOD", 2, ["T2_A", "T2_OLD"]);
      await f.dataset("/New/AOD", 1, ["T2_A"]);
      await f.submit([{ op: "site.upsert", name: "T2_OLD", status: "morgue" }]);
      await f.scheduleCopy("/Evacuate/AOD", "T2_B");
      await f.scheduleDeletion("/Extra/AOD", "T2_OLD");
      await f.scheduleCopy("/New/AOD", "T2_OLD");
      const pass = await f.pass();
      assertEquals([pass.transfers_done, pass.deletions_done, pass.held], [3, 2, 1]);
      assertEquals(f.blockReplica("/Evacuate/AOD", "T2_B")?.fileIds, null, "copied out of the morgue site");
      for (const file of files) {
        assertEquals(await checksumAt(`${f.rootOf("T2_B")}${file.lfn}`), adler32Hex(file.bytes));
      }
      assertEquals(f.blockReplica("/Extra/AOD", "T2_OLD"), undefined, "deleted at the morgue site");
      const held = await f.call("GET", "/data/transfers/held/summary");
      assertEquals(held.body.data, [{
        site: "T2_OLD",
        counts: { no_source: 0, all_failed: 0, site_unavailable: 1, unknown: 0 },
        held: [{ kind: "copy", reason: "site_unavailable", files: 1, bytes: 1000 }],
      }]);
    } finally {
      await f.close();
    }
  },
);

dbTest(
  "no source holds a file as no_source; a site in downtime holds it until it is ready again",
  async ({ db }) => {
    const f = await fileopsFederation(db, [{ name: "T2_A" }, { name: "T2_B" }, {
      name: "T2_DOWN",
      status: "waitroom",
    }]);
    try {
      await f.dataset("/Lonely/AOD", 2, ["T2_A"]);
      await f.scheduleCopy("/Lonely/AOD", "T2_DOWN");
      await f.dataset("/Orphan/AOD", 1, ["T2_A"]);
      await f.scheduleCopy("/Orphan/AOD", "T2_B");
      await f.submit([{ op: "site.upsert", name: "T2_A", status: "waitroom" }]); // the only source goes down
      const first = await f.pass();
      assertEquals(first.held, 3);
      const summary = await f.call("GET", "/data/transfers/held/summary");
      assertEquals(summary.body.data, [{
        site: "T2_B",
        counts: { no_source: 1, all_failed: 0, site_unavailable: 0, unknown: 0 },
        held: [{ kind: "copy", reason: "no_source", files: 1, bytes: 1000 }],
      }, {
        site: "T2_DOWN",
        counts: { no_source: 0, all_failed: 0, site_unavailable: 2, unknown: 0 },
        held: [{ kind: "copy", reason: "site_unavailable", files: 2, bytes: 2000 }],
      }]);
      // The original monitor's table and its detail call (`held.js` loadDetails(site, reason)).
      const byReason = await f.call(
        "GET",
        "/data/transfers/held/detail?site=T2_DOWN&reason=site_unavailable",
      );
      assertEquals(
        byReason.body.data.map((
          d: { destination: string; reason: string; file: string },
        ) => [d.destination, d.reason]),
        [["T2_DOWN", "site_unavailable"], ["T2_DOWN", "site_unavailable"]],
      );
      assertEquals((await f.call("GET", "/data/transfers/held/detail?reason=nonsense")).status, 400);
      await f.submit([{ op: "site.upsert", name: "T2_A", status: "ready" }, {
        op: "site.upsert",
        name: "T2_DOWN",
        status: "ready",
      }]);
      const second = await f.pass();
      assertEquals(second.transfers_done, 2, "site_unavailable is released by itself once the site is ready");
      assertEquals(f.blockReplica("/Lonely/AOD", "T2_DOWN")?.fileIds, null);
      const detail = await f.call("GET", "/data/transfers/held/detail");
      assertEquals(detail.body.data.map((d: { hold_reason: string }) => d.hold_reason), ["no_source"]);
      const bad = await f.call("POST", "/data/transfers/release?id=1;DROP", { token: f.token });
      assertEquals(bad.status, 400);
      const anonymous = await f.call("POST", "/data/transfers/release?all=y");
      assertEquals(anonymous.status, 401);
      const released = await f.call("POST", `/data/transfers/release?id=${detail.body.data[0].id}`, {
        token: f.token,
      });
      assertEquals(released.body.data, { released: 1 });
      const third = await f.pass();
      assertEquals(third.transfers_done, 1, "no_source waits for an operator's release");
      assertEquals(f.blockReplica("/Orphan/AOD", "T2_B")?.fileIds, null);
    } finally {
      await f.close();
    }
  },
);

dbTest(
  "a deleted replica's files disappear from the storage, then the replica from the inventory",
  async ({ db }) => {
    const f = await fileopsFederation(db, [{ name: "T2_A" }, { name: "T2_B" }]);
    try {
      const files = await f.dataset("/Unpopular/AOD", 5, ["T2_A", "T2_B"]);
      await f.scheduleDeletion("/Unpopular/AOD", "T2_B");
      const summary = await f.pass();
      assertEquals([summary.deletions_done, summary.deletions_failed], [5, 0]);
      for (const file of files) {
        assertEquals(await Deno.stat(`${f.rootOf("T2_B")}${file.lfn}`).then(() => true, () => false), false);
        assertEquals(await Deno.stat(`${f.rootOf("T2_A")}${file.lfn}`).then(() => true, () => false), true);
      }
      assertEquals(f.blockReplica("/Unpopular/AOD", "T2_B"), undefined);
      const snap = f.dynamo.tree.gateway.snapshot();
      assertEquals(snap.replica(snap.dataset("/Unpopular/AOD")!.id, snap.site("T2_B")!.id), undefined);
      const history = await f.call("GET", "/data/deletions/history");
      assertEquals(history.body.data.length, 5);
    } finally {
      await f.close();
    }
  },
);

dbTest("a tape source is staged first, then copied to disk", async ({ db }) => {
  const f = await fileopsFederation(db, [{ name: "T1_TAPE", type: "mss" }, { name: "T2_B" }]);
  try {
    const [file] = await f.dataset("/Raw/Tape/RAW", 1, ["T1_TAPE"]);
    await f.scheduleCopy("/Raw/Tape/RAW", "T2_B");
    const first = await f.pass();
    assertEquals([first.staging, first.transfers_done], [1, 0]);
    f.clock.advance(30_000);
    assertEquals((await f.pass()).transfers_done, 0, "still staging");
    f.clock.advance(31_000);
    const third = await f.pass();
    assertEquals(third.transfers_done, 1);
    assertEquals(await checksumAt(`${f.rootOf("T2_B")}${file!.lfn}`), adler32Hex(file!.bytes));
  } finally {
    await f.close();
  }
});

dbTest("lfn2pfn maps through the site's chains and refuses hostile names", async ({ db }) => {
  const f = await fileopsFederation(db, [{ name: "T2_A" }]);
  try {
    await f.submit([{
      op: "site.upsert",
      name: "T2_A",
      filename_mappings: { posix: [[["/store/(.*)", "/cms/store/{0}"]]] },
    }]);
    const ok = await f.call("GET", "/data/inventory/lfn2pfn?site=T2_A&lfn=/store/data/x.root");
    assertEquals(ok.body.data.pfn, `file://${await Deno.realPath(f.rootOf("T2_A"))}/cms/store/data/x.root`);
    for (
      const [query, param] of [
        ["site=T2_NONE&lfn=/store/x", "site"],
        ["site=T2_A&lfn=/store/../../etc/passwd", "lfn"],
        ["site=T2_A&lfn=/other/x", "lfn"],
        ["site=T2_A", "lfn"],
      ]
    ) {
      const r = await f.call("GET", `/data/inventory/lfn2pfn?${query}`);
      assertEquals(r.status, 400, query);
      assert(r.body.message.includes(param!), r.body.message);
    }
  } finally {
    await f.close();
  }
});

dbTest(
  "a transfer actor that crashes is restarted and the next pass re-runs its tasks exactly once",
  async ({ db }) => {
    const f = await fileopsFederation(db, [{ name: "T2_A" }, { name: "T2_B" }]);
    const restarts: string[] = [];
    f.dynamo.system.inspection.subscribe((e) => e.type === "restart" && restarts.push(e.address));
    try {
      const files = await f.dataset("/Crash/Worker/AOD", 20, ["T2_A"]);
      await f.scheduleCopy("/Crash/Worker/AOD", "T2_B");
      // The database refuses the history rows: finishing a task throws, which is a crash, not a failed copy.
      await db.exec("ALTER TABLE file_transfers RENAME TO file_transfers_away");
      const crashed = await f.pass();
      assertEquals([crashed.worker_crashes, crashed.transfers_done, crashed.transfers_failed], [1, 0, 0]);
      assertEquals(restarts, ["/dynamo/fileops/link:T2_A:T2_B"]);
      await db.exec("ALTER TABLE file_transfers_away RENAME TO file_transfers");
      const resumed = await f.pass();
      assertEquals([resumed.worker_crashes, resumed.transfers_done, resumed.transfers_failed], [0, 20, 0]);
      for (const file of files) {
        assertEquals(await checksumAt(`${f.rootOf("T2_B")}${file.lfn}`), adler32Hex(file.bytes));
      }
      assertEquals(
        await db.queryArrays("SELECT count(*), count(DISTINCT lfn) FROM file_transfers WHERE exit_code = 0"),
        [[20, 20]],
      );
      assertEquals(f.blockReplica("/Crash/Worker/AOD", "T2_B")?.fileIds, null, "complete");
    } finally {
      await f.close();
    }
  },
);

dbTest(
  "an incomplete replica whose missing files nothing is copying gets them subscribed again (updater step 3)",
  async ({ db }) => {
    const f = await fileopsFederation(db, [{ name: "T2_A" }, { name: "T2_B" }]);
    try {
      const files = await f.dataset("/Lost/Subscriptions/AOD", 5, ["T2_A"]);
      // T2_B holds two of the five files and no operation is copying the rest.
      for (const file of files.slice(0, 2)) {
        await Deno.mkdir(`${f.rootOf("T2_B")}${file.lfn.slice(0, file.lfn.lastIndexOf("/"))}`, {
          recursive: true,
        });
        await Deno.writeFile(`${f.rootOf("T2_B")}${file.lfn}`, file.bytes);
      }
      await f.submit([
        {
          op: "dataset_replica.upsert",
          dataset: "/Lost/Subscriptions/AOD",
          site: "T2_B",
          group: "AnalysisOps",
        },
        {
          op: "block_replica.upsert",
          dataset: "/Lost/Subscriptions/AOD",
          block: "b1",
          site: "T2_B",
          files: files.slice(0, 2).map((x) => x.lfn),
        },
      ]);
      const first = await f.pass();
      assertEquals([first.resubscribed, first.transfers_done], [3, 0]);
      const second = await f.pass();
      assertEquals([second.resubscribed, second.transfers_done], [0, 3]);
      assertEquals(f.blockReplica("/Lost/Subscriptions/AOD", "T2_B")?.fileIds, null, "complete");
      for (const file of files) {
        assertEquals(await checksumAt(`${f.rootOf("T2_B")}${file.lfn}`), adler32Hex(file.bytes));
      }
      assertEquals((await f.pass()).resubscribed, 0, "nothing left to re-subscribe");
    } finally {
      await f.close();
    }
  },
);
