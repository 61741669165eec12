/**
 * The heavy reads (statistics, large listings) answered on a real reader
 * replica in a Worker: the same JSON as in-process, and read-your-writes.
 */
import { assert, assertEquals } from "../tests/helpers/assert.ts";
import { dbTest } from "../tests/helpers/db.ts";
import { caller } from "../tests/helpers/http.ts";
import { analysisFederation } from "../tests/helpers/analysis_federation.ts";
import { TestClock } from "../actors/runtime/mod.ts";
import { parsePartitions } from "../policies/partitions.ts";
import { parseCommand } from "../registry/inventory/mod.ts";
import { answerHeavyRead, type HeavyRead } from "../registry/inventory/reads/heavy_read.ts";
import { createRegistryApp } from "../registry/http/app.ts";
import type { InventoryAccess } from "../registry/http/inventory_access.ts";
import type { Database } from "../adapters/db/database.ts";
import { createDynamo } from "./create_dynamo.ts";
import { CATCH_UP_LIMIT_MS } from "../actors/inventory/replica_wait.ts";

const NOW = Date.UTC(2026, 11, 2);
const PARTITIONS = parsePartitions("Analysis: blockreplica.owner == AnalysisOps\n");

/** Beyond the Detox federation: a second group, block-level owners, an incomplete and an unowned replica. */
const MORE = [
  { op: "group.upsert", name: "DataOps", olevel: "Block" },
  { op: "site.upsert", name: "T1_C_MSS", storage_type: "mss", status: "ready" },
  { op: "dataset.upsert", name: "/C/seven/RAW", status: "production", data_type: "production" },
  ...["b1", "b2"].flatMap((b) => [
    { op: "block.upsert", dataset: "/C/seven/RAW", block: b },
    {
      op: "files.add",
      dataset: "/C/seven/RAW",
      block: b,
      files: [{ lfn: `/C/seven/RAW/${b}/f1`, size: 70 }, { lfn: `/C/seven/RAW/${b}/f2`, size: 30 }],
    },
  ]),
  { op: "dataset_replica.upsert", dataset: "/C/seven/RAW", site: "T1_C_MSS", group: null },
  { op: "block_replica.upsert", dataset: "/C/seven/RAW", block: "b1", site: "T1_C_MSS", group: "DataOps" },
  {
    op: "block_replica.upsert",
    dataset: "/C/seven/RAW",
    block: "b2",
    site: "T1_C_MSS",
    group: null,
    files: ["/C/seven/RAW/b2/f1"],
  },
  { op: "dataset_replica.upsert", dataset: "/C/seven/RAW", site: "T2_A", group: null },
  { op: "block_replica.upsert", dataset: "/C/seven/RAW", block: "b1", site: "T2_A", group: "DataOps" },
];

/** Every heavy read, with parameters that select something and some that select nothing. */
const READS = [
  ...["size", "replication", "usage"].flatMap((s) =>
    ["site", "group", "data_type", "dataset_status", "dataset"].flatMap((listBy) =>
      ["y", "n"].map((physical) => `/data/inventory/stats/${s}?list_by=${listBy}&physical=${physical}`)
    )
  ),
  "/data/inventory/stats/size?list_by=site&site=T2_&group=None,DataOps",
  "/data/inventory/stats/usage?list_by=group&dataset=/S/&site_status=ready",
  "/data/inventory/stats/replication?list_by=site&dataset_software_version=None&data_type=production",
  "/data/inventory/stats/size?list_by=site&dataset=/Nothing/",
  "/data/inventory/datasets?dataset=*",
  "/data/inventory/datasets?dataset=/S/*",
  "/data/inventory/datasets?dataset=/Nothing*",
  "/data/inventory/blockreplicas?dataset=*",
  "/data/inventory/blockreplicas?dataset=*&node=T1_*",
  "/data/inventory/blockreplicas?dataset=/C/*&complete=n",
  "/data/inventory/blockreplicas?dataset=*&group=DataOps",
  "/data/inventory/blockreplicas?block=/C/*%23b?",
  "/data/inventory/blockreplicas?dataset=*&update_since=99999999999",
];

/** PhEDEx's subscriptions (mounted with the request routes), beside the query they make. */
const SUBSCRIPTIONS: [string, HeavyRead][] = [
  ["?dataset=*", { kind: "subscriptions", query: { dataset: "*", block: null, node: null, group: null } }],
  ["?dataset=*&node=T2_A", {
    kind: "subscriptions",
    query: { dataset: "*", block: null, node: "T2_A", group: null },
  }],
  ["?block=/C/*%23*&group=DataOps", {
    kind: "subscriptions",
    query: { dataset: "/C/*", block: "*", node: null, group: "DataOps" },
  }],
];

async function start(db: Database) {
  const clock = new TestClock(NOW);
  const dynamo = await createDynamo({
    database: db,
    clock,
    fileops: null,
    partitions: PARTITIONS,
    readers: true,
  });
  await dynamo.ready;
  const setup = await dynamo.port.submit({
    commands: [...analysisFederation(NOW), ...MORE.map((c) => parseCommand(c))],
    atomic: true,
  });
  assert(setup.ok && setup.outcomes.every((o) => o.status === "applied"), JSON.stringify(setup));
  await dynamo.tree.replicas!.whenReady();
  /** The reads the replica answered (the route fell back on none of them). */
  const onReplica: HeavyRead[] = [];
  const port = dynamo.port;
  const observed: InventoryAccess = {
    ...port,
    replicaRead(read, generation, budgetMs) {
      const answer = port.replicaRead!(read, generation, budgetMs);
      return answer?.then((a) => (onReplica.push(read), a)) ?? null;
    },
  };
  const inProcess: InventoryAccess = { ...port, replicaRead: () => null };
  return {
    dynamo,
    clock,
    onReplica,
    replica: caller(createRegistryApp(observed)),
    main: caller(createRegistryApp(inProcess)),
  };
}

dbTest("heavy reads answer the same JSON on the reader replica as on the main isolate", async ({ db }) => {
  const h = await start(db);
  try {
    let nonEmpty = 0;
    for (const path of READS) {
      const before = h.onReplica.length;
      const a = await h.replica("GET", path);
      const b = await h.main("GET", path);
      assertEquals(a.status, 200, `${path}: ${a.body.message}`);
      assertEquals(h.onReplica.length, before + 1, `${path} was not answered by the replica`);
      assertEquals(a.body, b.body, path);
      if (JSON.stringify(a.body.data).length > 60) nonEmpty++;
    }
    // Most of them select something: the comparison is not between empty answers.
    assert(nonEmpty >= READS.length - 6, `only ${nonEmpty} of ${READS.length} answers had content`);
    // The service's own app (the real port) on the replica, against the same function in-process.
    const service = caller(h.dynamo.app);
    for (const [params, read] of SUBSCRIPTIONS) {
      const a = await service("GET", `/data/inventory/subscriptions${params}`);
      assertEquals(a.status, 200, a.body.message);
      const expected = await answerHeavyRead(h.dynamo.port.snapshot(), read);
      assertEquals(a.body.data, JSON.parse(JSON.stringify(expected)), params);
      assert(a.body.data.dataset.length > 0, params);
    }
    // An exact name is a look-up: answered in-process, the same.
    const exact = await h.replica("GET", "/data/inventory/blockreplicas?dataset=/C/seven/RAW");
    assertEquals(exact.body.data.block.length, 2);
    assertEquals(h.onReplica.length, READS.length);
    // Patterns are checked before the replica is asked: a malformed one is a 400 naming the parameter.
    for (const bad of ["(", "[", "a{2,1}", "(?<", "\\"]) {
      const r = await h.replica("GET", `/data/inventory/stats/size?dataset=${encodeURIComponent(bad)}`);
      assertEquals(r.status, 400, bad);
      assert(r.body.message.includes("dataset"), r.body.message);
    }
    assertEquals(h.onReplica.length, READS.length);
  } finally {
    await h.dynamo.close();
  }
});

dbTest("a write acknowledged before a heavy read is in the replica's answer", async ({ db }) => {
  const h = await start(db);
  try {
    for (let i = 1; i <= 5; i++) {
      const r = await h.dynamo.port.submit({
        commands: [
          parseCommand({ op: "dataset.upsert", name: `/New/n${i}/AOD`, status: "valid" }),
          parseCommand({ op: "block.upsert", dataset: `/New/n${i}/AOD`, block: "b" }),
          parseCommand({
            op: "files.add",
            dataset: `/New/n${i}/AOD`,
            block: "b",
            files: [{ lfn: `/New/n${i}/f`, size: 1e12 }],
          }),
          parseCommand({
            op: "dataset_replica.upsert",
            dataset: `/New/n${i}/AOD`,
            site: "T2_B",
            group: null,
          }),
          parseCommand({ op: "block_replica.upsert", dataset: `/New/n${i}/AOD`, block: "b", site: "T2_B" }),
        ],
        atomic: true,
      });
      assert(r.ok && r.outcomes.every((o) => o.status === "applied"));
      const listed = await h.replica("GET", "/data/inventory/datasets?dataset=/New/*");
      assertEquals(listed.body.data.map((d: { name: string }) => d.name).length, i);
      const size = await h.replica("GET", "/data/inventory/stats/size?list_by=dataset&dataset=/New/");
      assertEquals(size.body.data.content.map((x: { size: number }) => x.size), Array(i).fill(1));
    }
    assertEquals(h.onReplica.length, 10);
  } finally {
    await h.dynamo.close();
  }
});

dbTest(
  "a replica that never reaches the generation leaves the read to the main isolate within the budget",
  async ({ db }) => {
    const h = await start(db);
    try {
      // A generation ahead of anything journaled, as after the writer reloads with no journal entry.
      let asked!: () => void;
      const wasAsked = new Promise<void>((resolve) => (asked = resolve));
      const port = h.dynamo.port;
      const ahead: InventoryAccess = {
        ...port,
        replicaRead(read, generation, budgetMs, signal) {
          const answer = port.replicaRead!(read, generation + 1_000, budgetMs, signal);
          asked();
          return answer;
        },
      };
      const deadlineMs = 60_000;
      const app = caller(createRegistryApp(ahead, { timers: h.clock, requestDeadlineMs: deadlineMs }));
      const path = "/data/inventory/stats/size?list_by=site&physical=n";
      const pending = app("GET", path);
      await wasAsked;
      const started = h.clock.now();
      await h.clock.advance(CATCH_UP_LIMIT_MS);
      const r = await pending;
      assertEquals(r.status, 200, r.body.message);
      assertEquals(r.body, (await h.main("GET", path)).body);
      assert(h.clock.now() - started < deadlineMs);

      // The request's signal (its deadline, or its client leaving) ends the wait at once.
      const client = new AbortController();
      const read: HeavyRead = { kind: "datasets", pattern: "*" };
      const waiting = port.replicaRead!(read, port.snapshot().generation + 1_000, 60_000, client.signal)!;
      client.abort(new Error("client left"));
      const error = await waiting.then(() => null, (e: Error) => e);
      assertEquals(error?.message, "client left");
    } finally {
      await h.dynamo.close();
    }
  },
);

dbTest("without a replica the heavy reads answer in-process, the same function", async ({ db }) => {
  const plain = await createDynamo({
    database: db,
    clock: new TestClock(NOW),
    fileops: null,
    partitions: PARTITIONS,
  });
  try {
    await plain.ready;
    assertEquals(plain.tree.replicas, null);
    const setup = await plain.port.submit({ commands: analysisFederation(NOW), atomic: true });
    assert(setup.ok);
    const call = caller(plain.app);
    const r = await call("GET", "/data/inventory/stats/size?list_by=site&physical=n");
    assertEquals(r.body.data, {
      statistic: "size",
      content: [{ key: "T2_A", size: 960e-12 }, { key: "T2_B", size: 960e-12 }],
    });
    const listed = await call("GET", "/data/inventory/datasets?dataset=/S/*");
    assertEquals(listed.body.data.map((d: { name: string }) => d.name), ["/S/one/AOD", "/S/two/AOD"]);
  } finally {
    await plain.close();
  }
});
