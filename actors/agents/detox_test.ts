import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { createDynamo, type Dynamo } from "../../service/create_dynamo.ts";
import { addOperator, addPlainUser } from "../../tests/helpers/users.ts";
import { TestClock } from "../runtime/mod.ts";
import { parsePartitions } from "../../policies/partitions.ts";
import { caller } from "../../tests/helpers/http.ts";
import { analysisFederation } from "../../tests/helpers/analysis_federation.ts";

const NOW = Date.UTC(2026, 10, 25);

const POLICY = `Partition Analysis
On site.name == T2_*
When site.occupancy > 0.9
Until site.occupancy < 0.85
ProtectBlock blockreplica.is_locked
Protect replica.num_full_other_copy_common_owner == 0
Dismiss
Order decreasing dataset.usage_rank
`;

async function setUp(db: Dynamo["db"]) {
  const admin = await addOperator(db);
  const alice = await addPlainUser(db, "alice");
  const dynamo = await createDynamo({
    database: db,
    clock: new TestClock(NOW),
    partitions: parsePartitions("Analysis: blockreplica.owner == AnalysisOps\n"),
    detox: {
      policies: [{ file: "analysis.txt", text: POLICY }],
      intervalMs: 0,
      deletionPerIteration: 1,
      protectedSites: [],
      enforcer: null,
    },
  });
  await dynamo.ready;
  const reply = await dynamo.port.submit({ commands: analysisFederation(NOW), atomic: true });
  assert(reply.ok && reply.outcomes.every((o) => o.status === "applied"));
  const call = caller(dynamo.app);
  return { dynamo, admin, alice, call };
}

dbTest(
  "Detox over HTTP: dry run, locks, a normal cycle that commits, history, and a quiet second cycle",
  async ({ db }) => {
    const { dynamo, admin, alice, call } = await setUp(db);
    try {
      // Popularity: /S/one is read a lot, /S/two never; usage rank orders the candidates.
      const acc = await call("POST", "/data/popularity/accesses", {
        token: admin,
        body: [{ dataset: "/S/one/AOD", site: "T2_A", date: "2026-11-24", accesses: 5000 }],
      });
      assertEquals(acc.status, 200);

      const dry = await call("POST", "/data/detox/run?mode=dry-run", { token: admin });
      assertEquals(dry.status, 200, dry.body.message);
      assertEquals(dry.body.data[0].mode, "dry-run");
      assertEquals(dry.body.data[0].committed_generation, null);
      const generation = dynamo.port.snapshot().generation;
      assertEquals(await db.queryArrays("SELECT count(*) FROM replica_operations"), [[0]]);

      // Alice locks /S/two at T2_B; B must then give up /S/one (the popular one) instead.
      const locked = await call(
        "POST",
        "/data/detox/lock/lock?item=/S/two/AOD&expires=2027-01-01&sites=T2_B",
        { token: alice },
      );
      assertEquals(locked.status, 200, locked.body.message);
      assertEquals(
        (await call("GET", "/data/detox/lock/list")).body.data.map((l: { item: string }) => l.item),
        ["/S/two/AOD"],
      );

      const run = await call("POST", "/data/detox/run", { token: admin });
      assertEquals(run.status, 200, run.body.message);
      const summary = run.body.data[0];
      assert(summary.committed_generation > generation, "the deletions were committed");
      const snap = dynamo.port.snapshot();
      const owner = (dataset: string, site: string) => {
        const d = snap.dataset(dataset)!;
        const dr = snap.replica(d.id, snap.site(site)!.id)!;
        return snap.groupById(dr.blockReplicas[0]!.groupId)!.name;
      };
      // A deletes its copy of /S/two (least popular, shared); B cannot (locked) and deletes /S/one;
      // re-evaluated, the remaining copies are last copies and protected.
      assertEquals(owner("/S/two/AOD", "T2_A"), null);
      assertEquals(owner("/S/one/AOD", "T2_B"), null);
      assertEquals(owner("/S/one/AOD", "T2_A"), "AnalysisOps");
      assertEquals(owner("/S/two/AOD", "T2_B"), "AnalysisOps");
      assertEquals(
        await db.queryArrays(
          "SELECT site, dataset, blocks IS NULL, status FROM replica_operations WHERE kind = 'deletion' ORDER BY site",
        ),
        [
          ["T2_A", "/S/two/AOD", true, "new"],
          ["T2_B", "/S/one/AOD", true, "new"],
        ],
      );
      assertEquals(snap.dataset("/S/two/AOD") !== undefined, true);
      assertEquals(snap.replica(snap.dataset("/S/two/AOD")!.id, snap.site("T2_A")!.id)!.growing, false);

      const cycles = await call("GET", "/data/detox/cycles?partition=Analysis");
      assertEquals(cycles.body.data.map((c: { mode: string; status: string }) => `${c.mode}:${c.status}`), [
        "normal:done",
        "dry-run:done",
      ]);
      const sum = await call("GET", "/data/detox/summary?partition=Analysis");
      const siteA = sum.body.data.sites.find((s: { site: string }) => s.site === "T2_A");
      assertEquals([
        siteA.used_before,
        siteA.used_after,
        siteA.delete,
        siteA.triggered,
        siteA.still_triggered,
      ], [960, 720, 240, true, false]);
      assertEquals(sum.body.data.previous_cycle, cycles.body.data[1].cycle);
      const detail = await call("GET", "/data/detox/sitedetail?site=T2_B&partition=Analysis");
      const two = detail.body.data.datasets.find((d: { dataset: string }) => d.dataset === "/S/two/AOD");
      assertEquals([two.decision, two.reason], ["protect", "ProtectBlock blockreplica.is_locked"]);
      const why = await call("GET", "/data/detox/datasets?dataset=/S/one/*");
      assertEquals(
        why.body.data.decisions.map((
          d: { site: string; decision: string; reason: string },
        ) => [d.site, d.decision, d.reason]),
        [
          ["T2_A", "protect", "Protect replica.num_full_other_copy_common_owner == 0"],
          ["T2_B", "delete", "Dismiss"],
        ],
      );
      const policy = await call("GET", "/data/detox/policy?partition=Analysis");
      assertEquals(policy.body.data.text, POLICY);

      const again = await call("POST", "/data/detox/run", { token: admin });
      assertEquals(
        again.body.data[0].deleted_replicas,
        0,
        "a second cycle right after the first deletes nothing",
      );

      // Unlocking keeps the lock as history.
      const lockId = locked.body.data.lockid;
      assertEquals(
        (await call("POST", `/data/detox/lock/unlock?lockid=${lockId}`, { token: alice })).body.data,
        { unlocked: 1 },
      );
      assertEquals((await call("GET", "/data/detox/lock/list")).body.data, []);
      const all = await call("GET", "/data/detox/lock/list?showall=y");
      assert(all.body.data[0].unlocked !== null);
    } finally {
      await dynamo.close();
    }
  },
);

dbTest("Detox and lock endpoints refuse bad input and missing rights", async ({ db }) => {
  const { dynamo, admin, alice, call } = await setUp(db);
  try {
    const cases: [string, string, string | undefined, unknown, number, RegExp][] = [
      ["POST", "/data/detox/run", undefined, undefined, 401, /authentication/],
      ["POST", "/data/detox/run", alice, undefined, 403, /role admin or operator on "application"/],
      ["POST", "/data/detox/run?mode=yolo", admin, undefined, 400, /"mode"/],
      ["POST", "/data/detox/run?time_shift=-3", admin, undefined, 400, /"time_shift"/],
      [
        "POST",
        "/data/detox/run?partition=Nope",
        admin,
        undefined,
        400,
        /No Detox policy for partition "Nope"/,
      ],
      ["GET", "/data/detox/summary?cycle=999", undefined, undefined, 404, /No Detox cycle 999/],
      ["GET", "/data/detox/sitedetail", undefined, undefined, 400, /"site": is required/],
      [
        "POST",
        "/data/detox/lock/lock?item=/S/two/AOD&expires=2027-01-01",
        undefined,
        undefined,
        401,
        /authentication/,
      ],
      ["POST", "/data/detox/lock/lock?item=/S/../etc&expires=2027-01-01", alice, undefined, 400, /"item"/],
      [
        "POST",
        "/data/detox/lock/lock?item=/S/two/AOD&expires=2020-01-01",
        alice,
        undefined,
        400,
        /"expires".*past/,
      ],
      ["POST", "/data/detox/lock/lock?item=/S/two/AOD&expires=whenever", alice, undefined, 400, /"expires"/],
      ["POST", "/data/detox/lock/set", alice, { item: "x" }, 400, /"body".*list of locks/],
      [
        "POST",
        "/data/detox/lock/set",
        alice,
        [{ item: "/S/two/AOD", expires: "2027-01-01", colour: "red" }],
        400,
        /body\[0\]\.colour/,
      ],
      ["POST", "/data/detox/lock/set", alice, [null], 400, /body\[0\].*expected an object/],
      [
        "POST",
        "/data/detox/lock/set",
        alice,
        [{ item: "/S/two/AOD", expires: "2027-01-01" }, {
          item: "/S/two/AOD",
          expires: "2027-01-01",
          sites: "T2_*",
        }],
        400,
        /body\[1\]\.sites.*list of strings/,
      ],
      [
        "POST",
        "/data/detox/lock/set",
        alice,
        [{ item: "/S/two/AOD", expires: "soonish" }],
        400,
        /body\[0\]\.expires.*expected a date/,
      ],
      ["POST", "/data/popularity/accesses", alice, [], 403, /role admin or operator on "registry"/],
      [
        "POST",
        "/data/popularity/accesses",
        admin,
        [{ dataset: "/S/one/AOD", site: "T2_A", date: "2099-01-01", accesses: 1 }],
        400,
        /accesses\[0\]\.date.*future/,
      ],
      [
        "POST",
        "/data/popularity/accesses",
        admin,
        [{ dataset: "/S/one/AOD", site: "T2 A", date: "2026-01-01", accesses: 1 }],
        400,
        /accesses\[0\]\.site/,
      ],
      [
        "POST",
        "/data/popularity/accesses",
        admin,
        [{ dataset: "/S/one/AOD", site: "T2_A", date: "2026-01-01", accesses: -1 }],
        400,
        /accesses\[0\]\.accesses/,
      ],
    ];
    for (const [method, path, token, body, status, pattern] of cases) {
      const r = await call(method, path, {
        ...(token ? { token } : {}),
        ...(body !== undefined ? { body } : {}),
      });
      assertEquals(r.status, status, `${method} ${path}: ${r.body.message}`);
      assertMatch(r.body.message, pattern);
    }
    assertEquals((await call("GET", "/data/detox/lock/list?showall=y")).body.data, [], "nothing was locked");
    // Locks set as a whole: create two, then keep one.
    const set1 = await call("POST", "/data/detox/lock/set", {
      token: alice,
      body: [{ item: "/S/one/AOD", expires: "2027-01-01" }, {
        item: "/A/*",
        expires: "2027-02-01",
        sites: ["T2_A"],
      }],
    });
    assertEquals(set1.body.data, { created: 2, updated: 0, unlocked: 0 });
    const set2 = await call("POST", "/data/detox/lock/set", {
      token: alice,
      body: [{ item: "/A/*", expires: "2027-03-01", sites: ["T2_A"] }],
    });
    assertEquals(set2.body.data, { created: 0, updated: 1, unlocked: 1 });
  } finally {
    await dynamo.close();
  }
});
