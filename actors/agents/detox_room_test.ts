import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { caller } from "../../tests/helpers/http.ts";
import { EXAMPLE_DEALER_CONFIG } from "../../tests/helpers/dealer.ts";
import { createDynamo, type Dynamo } from "../../service/create_dynamo.ts";
import { addOperator, addPlainUser } from "../../tests/helpers/users.ts";
import { parseDealerConfig } from "../../policies/dealer/dealer_config.ts";
import { parseCommand } from "../../registry/inventory/mod.ts";
import { TestClock } from "../runtime/mod.ts";

const NOW = Date.UTC(2026, 10, 25);
const GB = 1e9;
const MINUTE = 60_000;

const POLICY = `Partition Default
On site.name == T2_*
When site.occupancy > 0.9
Until site.occupancy < 0.85
Protect replica.num_full_other_copy_common_owner == 0
Dismiss
Order increasing replica.size
`;

/**
 * T2_A at 80 % and T2_B at 90 % of 1000 GB: under Detox's 90 % trigger, and
 * neither can take 150 GB under the Dealer's 0.9 target. /Old is at both (the
 * only deletable replicas); the /Keep ones are last copies.
 */
async function setUp(db: Dynamo["db"], opts: { want: number; room: number }) {
  const ops = await addOperator(db);
  const alice = await addPlainUser(db, "alice");
  const example = JSON.parse(EXAMPLE_DEALER_CONFIG);
  const clock = new TestClock(NOW);
  const dynamo = await createDynamo({
    database: db,
    clock,
    dealer: {
      config: parseDealerConfig(
        JSON.stringify({ ...example, plugins: { requests: example.plugins.requests } }),
      ),
      enforcer: null,
      intervalMs: 0,
    },
    detox: {
      policies: [{ file: "room.txt", text: POLICY }],
      intervalMs: 0,
      deletionPerIteration: 1,
      protectedSites: [],
      enforcer: null,
      ...(opts.room
        ? { roomForRequests: { maxFraction: opts.room, intervalMs: 60 * MINUTE, checkMs: 10 * MINUTE } }
        : {}),
    },
    requestIntervalMs: 0,
    fileops: null,
  });
  await dynamo.ready;
  const commands: Record<string, unknown>[] = [
    { op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" },
    ...["T2_A", "T2_B", "T3_X"].flatMap((site) => [
      { op: "site.upsert", name: site, storage_type: "disk", status: "ready" },
      { op: "quota.set", site, partition: "Default", quota: 1000 * GB },
    ]),
  ];
  const datasets: [string, number, string[]][] = [
    ["/Old/a/AOD", 200, ["T2_A", "T2_B"]],
    ["/Keep/a/AOD", 600, ["T2_A"]],
    ["/Keep/b/AOD", 700, ["T2_B"]],
    ["/Want/x/AOD", opts.want, ["T3_X"]],
  ];
  for (const [name, size, sites] of datasets) {
    commands.push(
      { op: "dataset.upsert", name, status: "valid" },
      { op: "block.upsert", dataset: name, block: "b1" },
      {
        op: "files.add",
        dataset: name,
        block: "b1",
        files: [{ lfn: `/store${name.toLowerCase()}/f1`, size: size * GB }],
      },
      ...sites.flatMap((site) => [
        { op: "dataset_replica.upsert", dataset: name, site, group: "AnalysisOps", growing: false },
        { op: "block_replica.upsert", dataset: name, block: "b1", site },
      ]),
    );
  }
  const reply = await dynamo.port.submit({ commands: commands.map((c) => parseCommand(c)), atomic: true });
  assert(reply.ok && reply.outcomes.every((o) => o.status === "applied"));
  const call = caller(dynamo.app);
  const made = await call("POST", "/data/request/copy?item=/Want/x/AOD&site=T2_*", { token: alice });
  assertEquals(made.status, 200, made.body.message);
  const id: number = made.body.data[0].request_id;
  const poll = async () => (await call("GET", `/data/request/pollcopy?request_id=${id}`)).body.data[0];
  const cycles = async () => (await call("GET", "/data/detox/cycles")).body.data as { mode: string }[];
  const copies = () =>
    db.queryArrays("SELECT kind, site, dataset FROM replica_operations WHERE kind = 'copy'");
  // The Dealer cannot place it: the request waits, with the reason.
  const run = await call("POST", "/data/dealer/run", { token: ops });
  assertEquals(run.status, 200, run.body.message);
  const waiting = await poll();
  assertEquals(waiting.status, "new");
  assertMatch(waiting.reason, /^waiting: /);
  assertEquals(await copies(), []);
  return { dynamo, clock, poll, cycles, copies, db };
}

dbTest(
  "a copy request waiting for room makes Detox run early; the room is made and the copy placed",
  async ({ db }) => {
    const { dynamo, clock, poll, cycles, copies } = await setUp(db, { want: 150, room: 0.2 });
    try {
      assertEquals(await cycles(), [], "no scheduled cycle: Detox runs only on request");
      await clock.advance(10 * MINUTE);
      await dynamo.system.runUntilIdle();
      assertEquals((await cycles()).length, 1, "one cycle, early");
      // 800 + 150 held > 900: /Old goes from T2_A (the emptier site); the last copies stay.
      assertEquals(
        await db.queryArrays("SELECT kind, site, dataset FROM replica_operations WHERE kind = 'deletion'"),
        [["deletion", "T2_A", "/Old/a/AOD"]],
      );
      // The Dealer ran at once and placed the copy where the room was made.
      assertEquals(await copies(), [["copy", "T2_A", "/Want/x/AOD"]]);
      assertEquals((await poll()).status, "activated");
      // Nothing waits any more: no further early cycle, however long.
      for (let i = 0; i < 12; i++) await clock.advance(10 * MINUTE);
      await dynamo.system.runUntilIdle();
      assertEquals((await cycles()).length, 1);
    } finally {
      await dynamo.close();
    }
  },
);

dbTest(
  "a copy Detox cannot make room for costs one early cycle per interval, not a storm",
  async ({ db }) => {
    // 350 GB: held at T2_A it would need /Keep/a (a last copy) gone too; Detox deletes /Old and stops there.
    const { dynamo, clock, poll, cycles, copies } = await setUp(db, { want: 350, room: 0.5 });
    try {
      // Three hours of checks every 10 minutes: 18 checks, one cycle an hour (at 10, 70 and 130 minutes).
      for (let i = 0; i < 18; i++) {
        await clock.advance(10 * MINUTE);
        await dynamo.system.runUntilIdle();
      }
      assertEquals((await cycles()).length, 3);
      assertEquals(
        await db.queryArrays(
          "SELECT site, dataset FROM replica_operations WHERE kind = 'deletion' ORDER BY site",
        ),
        [["T2_A", "/Old/a/AOD"]],
        "the first cycle deletes what it may; the later ones find only last copies",
      );
      assertEquals(await copies(), [], "600 + 350 > 900: still no room under the Dealer's target");
      assertEquals((await poll()).status, "new");
    } finally {
      await dynamo.close();
    }
  },
);

dbTest("without room_for_requests nothing runs early", async ({ db }) => {
  const { dynamo, clock, cycles, copies } = await setUp(db, { want: 150, room: 0 });
  try {
    for (let i = 0; i < 12; i++) await clock.advance(10 * MINUTE);
    await dynamo.system.runUntilIdle();
    assertEquals(await cycles(), []);
    assertEquals(await copies(), []);
  } finally {
    await dynamo.close();
  }
});
