/**
 * `deno task bench [--scale small|medium|cms] [--seed N] [--database-url URL] [--repeat N]`
 *
 * Prints one JSON object of figures, each beside the raw limit measured in the
 * same run on the same machine. Default scale runs in under a
 * minute; `--scale cms` is the CMS-scale inventory. Never used by tests.
 * `--scale atlas` (ten times CMS, ~44 M objects; meant for PostgreSQL) stops
 * after load, publication, Detox and Dealer.
 *
 * Run it on both databases: without `--database-url` on embedded PGlite, and
 * with `--database-url postgres://…` on a PostgreSQL server (a schema of its
 * own, dropped afterwards). The journal, load and injection figures differ
 * between the two (docs/performance.md). `--repeat N` runs the whole bench N times, one process after
 * another, and prints each figure's median with its range (`repeat.ts`).
 *
 * Long on purpose (~560 lines): one program that prints one JSON object, each figure
 * beside its raw limit; the measured pieces live in their own modules.
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { ActorSystem, SystemClock, yieldToEventLoop } from "../actors/runtime/mod.ts";
import { type Database, openDatabase } from "../adapters/db/database.ts";
import { SqlInventoryStore } from "../adapters/db/inventory_store.ts";
import { migrate } from "../adapters/db/migrate.ts";
import {
  catalogFromAnnex,
  EMPTY_ANNEX,
  type InventoryCommand,
  type InventoryState,
  reduceBatch,
  Snapshot,
} from "../registry/inventory/mod.ts";
import { SeededRng } from "../actors/runtime/clock.ts";
import { BENCH_PARTITIONS, datasetName, generateInventory, SCALES, siteName } from "./generate.ts";
import { parsePartitions } from "../policies/partitions.ts";
import { evaluateOnce, runDetox } from "../policies/detox/detox_engine.ts";
import { PartitionImage } from "../policies/detox/partition_image.ts";
import { produceAttributes } from "../policies/producers/attributes.ts";
import { physicsCycleInputs } from "./physics_policy.ts";
import { BENCH_DEALER_CONFIG } from "./dealer_config.ts";
import { benchFileops } from "./fileops.ts";
import { benchXrootdFileops } from "./fileops_xrootd.ts";
import { benchInject } from "./inject.ts";
import { benchJournal } from "./journal.ts";
import { benchConsistency } from "./consistency.ts";
import { benchDatasetActors } from "./dataset_actors.ts";
import { benchCluster } from "./cluster.ts";
import { benchClusterFence } from "./cluster_fence.ts";
import { benchSimulate } from "./simulate.ts";
import { benchPublish, processMemory } from "./publish.ts";
import { bareSelect, bareStream, coldBareStream } from "./load_limit.ts";
import { dealerCycle } from "../policies/dealer/dealer_cycle.ts";
import { parseDealerConfig } from "../policies/dealer/dealer_config.ts";
import type { DetoxProtection } from "../policies/dealer/plugins/balancer.ts";
import { parseEnforcerRules } from "../policies/enforcer_rules.ts";
import type { CopyRequest } from "../registry/requests/copy_request.ts";
import { cpuSecondsSince, round } from "./figures.ts";
import { parseRepeat, repeatBench } from "./repeat.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    scale: { type: "string", default: "small" },
    seed: { type: "string", default: "1" },
    "database-url": { type: "string" },
    repeat: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(`deno task bench [--scale small|medium|cms] [--seed N] [--database-url URL] [--repeat N]

Prints one JSON object of figures, each beside its raw limit measured in the same run.
--repeat N runs the whole bench N times (1 to 20), one process after another, and prints
each figure's median over the runs, with its range under "bench.ranges".
Run it on both databases: once without --database-url (embedded PGlite), and once with
--database-url postgres://USER@HOST:PORT/DB (PostgreSQL; a schema of its own, dropped
afterwards). The journal, load and injection figures differ between them; see
docs/performance.md.`);
  Deno.exit(0);
}
const scale = SCALES[values.scale!];
if (!scale) {
  throw new TypeError(`--scale must be one of ${Object.keys(SCALES).join(", ")}, got "${values.scale}"`);
}
if (!/^[0-9]{1,9}$/.test(values.seed!)) {
  throw new TypeError(`--seed must be a whole number, got "${values.seed}"`);
}
const seed = Number(values.seed);
const log = (msg: string) => console.error(`bench: ${msg}`);
const repeat = parseRepeat(values.repeat);
if (repeat > 1) {
  const args = ["--scale", scale.name, "--seed", values.seed!];
  if (values["database-url"]) args.push("--database-url", values["database-url"]);
  console.log(JSON.stringify(await repeatBench(args, repeat, log), null, 2));
  Deno.exit(0);
}
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const hr = () => Number(process.hrtime.bigint()) / 1e3; // microseconds

const partitions = parsePartitions(BENCH_PARTITIONS, "bench partitions");
const figures: Record<string, unknown> = {
  scale: scale.name,
  seed,
  database: values["database-url"] ? "postgres" : "pglite",
};

// ---- actor runtime throughput -------------------------------------------------------
{
  const N = 100_000;
  const system = new ActorSystem({
    clock: new SystemClock(),
    logger: () => ({ debug() {}, info() {}, warn() {}, error() {} }),
  });
  let count = 0;
  const ref = system.spawn<number>({
    id: "counter",
    restart: "permanent",
    mailbox: { capacity: N + 1 },
    behavior: { init: () => 0, receive: (s, n) => s + n },
  });
  await system.runUntilIdle();
  let t = performance.now();
  for (let i = 0; i < N; i++) ref.tell(1);
  await system.runUntilIdle();
  const actorSeconds = (performance.now() - t) / 1000;
  // The limit: the same handler called directly in a loop.
  const handler = (s: number, n: number) => s + n;
  t = performance.now();
  for (let i = 0; i < N; i++) count = handler(count, 1);
  const rawSeconds = Math.max((performance.now() - t) / 1000, 1e-6);
  figures["actors.messages"] = N;
  figures["actors.messages_per_second"] = Math.round(N / actorSeconds);
  figures["actors.direct_calls_per_second_limit"] = Math.round(N / rawSeconds);
  await system.shutdown();
  if (count !== N) throw new Error("direct loop miscounted");
}

// ---- the inventory in the database ----------------------------------------------------
const benchSchema = `bench_${Date.now()}`;
const db: Database = await openDatabase(
  values["database-url"] ? { url: values["database-url"], schema: benchSchema } : {},
);
await migrate(db, Date.now());
const store = new SqlInventoryStore(db);
await store.loadTables(partitions); // registers the partitions
log(`generating the ${scale.name} inventory`);
let t = performance.now();
const generated = await generateInventory(db, scale, seed);
const rowsWritten = generated.datasets + generated.blocks + generated.datasetReplicas +
  generated.blockReplicas;
figures["setup.copy_rows_per_second"] = Math.round(rowsWritten / ((performance.now() - t) / 1000));

// Load through the store (builds the in-memory inventory) vs the same rows streamed with a bare SELECT.
log("loading");
gc();
const heapBefore = Deno.memoryUsage().heapUsed;
t = performance.now();
let cpu = process.cpuUsage();
const state: InventoryState = await store.loadTables(partitions);
const loadSeconds = (performance.now() - t) / 1000;
// CPU seconds beside wall seconds: on a shared machine the wall clock also counts other processes' turns.
figures["inventory.load_cpu_seconds"] = cpuSecondsSince(cpu);
gc();
const heapAfter = Deno.memoryUsage().heapUsed;
const objects = state.counts.datasets + state.counts.blocks + state.counts.sites + state.counts.groups +
  state.counts.datasetReplicas + state.counts.blockReplicas;
// The limit reads the rows the way the load does (one streamed SELECT per table on PostgreSQL,
// pages on PGlite); the paged read the load used before is measured too (docs/performance.md).
t = performance.now();
const bare = await bareStream(db);
const bareSeconds = (performance.now() - t) / 1000;
t = performance.now();
await bareSelect(db);
const pagedBareSeconds = (performance.now() - t) / 1000;
// The load above is its process's first (nothing compiled), the limit after it reads with a compiled
// driver: the same read in a fresh process, beside it (PostgreSQL only; docs/performance.md, `load3`).
if (values["database-url"]) {
  const cold = await coldBareStream(values["database-url"], benchSchema);
  figures["inventory.load_cold_limit_seconds"] = round(cold.seconds, 3);
  figures["inventory.load_cold_ratio"] = round(loadSeconds / cold.seconds, 2);
}
figures["inventory.objects"] = objects;
figures["inventory.rows_loaded"] = bare;
figures["inventory.bytes_per_object"] = Math.round((heapAfter - heapBefore) / objects);
figures["inventory.load_seconds"] = round(loadSeconds, 3);
figures["inventory.load_limit_seconds"] = round(bareSeconds, 3);
figures["inventory.load_ratio"] = round(loadSeconds / bareSeconds, 2);
figures["inventory.load_paged_limit_seconds"] = round(pagedBareSeconds, 3);
figures["inventory.load_paged_ratio"] = round(loadSeconds / pagedBareSeconds, 2);
log(
  `inventory: ${
    JSON.stringify(Object.fromEntries(Object.entries(figures).filter(([k]) => k.startsWith("inventory."))))
  }`,
);

// ---- Detox: a Physics-style cycle vs one evaluation pass over every replica ----------------------
let detoxProtection: DetoxProtection;
{
  log("detox");
  const snap = new Snapshot(state);
  const { nowMs, accesses, policy } = physicsCycleInputs(scale, seed);
  // Warm up the evaluator (JIT) so that neither figure pays for it.
  evaluateOnce(
    PartitionImage.build(snap, policy, produceAttributes(snap, { now: nowMs / 1000, accesses })),
    policy,
  );
  let t = performance.now();
  const single = evaluateOnce(
    PartitionImage.build(snap, policy, produceAttributes(snap, { now: nowMs / 1000, accesses })),
    policy,
  );
  const singleSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  cpu = process.cpuUsage();
  const attrs = produceAttributes(snap, { now: nowMs / 1000, accesses });
  const result = runDetox(PartitionImage.build(snap, policy, attrs), policy);
  const cycleSeconds = (performance.now() - t) / 1000;
  figures["detox.cycle_cpu_seconds"] = cpuSecondsSince(cpu);
  figures["detox.replicas_evaluated_single_pass"] = single;
  figures["detox.single_pass_seconds"] = round(singleSeconds, 3);
  figures["detox.cycle_seconds"] = round(cycleSeconds, 3);
  figures["detox.cycle_to_single_pass"] = round(cycleSeconds / singleSeconds, 2);
  figures["detox.iterations"] = result.iterations;
  figures["detox.evaluations"] = result.evaluations;
  figures["detox.sites_triggered"] = result.sites.filter((s) => s.triggered).length;
  figures["detox.sites_still_triggered"] = result.sites.filter((s) => s.stillTriggered).length;
  figures["detox.replicas_deleted"] = result.deletions.length;
  figures["detox.bytes_deleted"] = result.deletions.reduce((a, d) => a + d.size, 0);
  log(
    `detox: cycle ${figures["detox.cycle_seconds"]} s, single pass ${figures["detox.single_pass_seconds"]} s`,
  );
  const lines = policy.text.split("\n");
  detoxProtection = {
    sites: result.sites.map((s) => ({ siteId: s.siteId, quota: s.quota, protectedBytes: s.protectedBytes })),
    protectedReplicas: result.decisions.filter((d) => d.decision === "protect").map((d) => ({
      siteId: d.siteId,
      datasetId: d.datasetId,
      size: d.size,
      reason: (lines[d.line - 1] ?? "").trim().replace(/^\S+\s*/, ""),
    })),
  };
}

// ---- Dealer: a CMS-configured cycle with every plugin busy, vs a bare scan of every block replica --
{
  log("dealer");
  const nowS = Date.UTC(2026, 10, 25) / 1000;
  const rng = new SeededRng(seed + 5);
  // Two disk sites go to the morgue so that the Undertaker has work.
  const morgue = [siteName(scale.tapeSites * 2, scale), siteName(scale.tapeSites * 2 + 1, scale)];
  const dealerState = reduceBatch(
    state,
    [{ commands: morgue.map((name) => ({ op: "site.upsert", name, status: "morgue" }) as InventoryCommand) }],
    catalogFromAnnex(EMPTY_ANNEX),
    nowS * 1000,
    state.generation + 1,
  ).state;
  const snap = new Snapshot(dealerState);
  const t2 = snap.sites().filter((s) => s.name.startsWith("T2_")).map((s) => s.name);
  const copyRequests: CopyRequest[] = Array.from({ length: 1000 }, (_, i) => ({
    id: i + 1,
    user: "bench",
    group: null,
    n: 1 + rng.int(2),
    items: [datasetName(1 + rng.int(scale.datasets))],
    sites: [t2[rng.int(t2.length)]!, t2[rng.int(t2.length)]!],
    status: "new",
    reason: null,
    createdAt: nowS,
    updatedAt: nowS,
    lastRequestAt: nowS,
    requestCount: 1,
    actions: [],
  }));
  const jobs = Array.from({ length: Math.round(scale.datasets / 50) }, () => ({
    dataset: datasetName(1 + rng.int(scale.datasets)),
    queued: nowS - rng.int(3 * 86400),
    jobs: 1 + rng.int(20),
  }));
  const enforcer = parseEnforcerRules(
    JSON.stringify({
      partition: "Physics",
      default_destination_group: "AnalysisOps",
      rules: {
        raw_on_t1: {
          replicas: ["dataset.name == /*/*/RAW"],
          num_copies: 1,
          destinations: ["site.name == T1_*_Disk"],
          sources: ["site.name == T*"],
        },
      },
    }),
    "bench enforcer",
    nowS * 1000,
  );
  const config = parseDealerConfig(JSON.stringify(BENCH_DEALER_CONFIG), "bench dealer");
  const inputs = {
    snapshot: snap,
    config,
    now: nowS,
    copyRequests,
    jobs,
    enforcer,
    detox: detoxProtection!,
    transferOutcomes: new Map(),
  };
  dealerCycle({ ...inputs, rng: new SeededRng(seed) }); // warm-up (JIT)
  let t = performance.now();
  cpu = process.cpuUsage();
  const out = dealerCycle({ ...inputs, rng: new SeededRng(seed) });
  const cycleSeconds = (performance.now() - t) / 1000;
  figures["dealer.cycle_cpu_seconds"] = cpuSecondsSince(cpu);
  t = performance.now();
  let scanned = 0;
  for (const d of snap.datasets()) {
    for (const dr of snap.replicasOf(d.id)) scanned += dr.blockReplicas.length;
  }
  const scanSeconds = (performance.now() - t) / 1000;
  const byPlugin: Record<string, number> = {};
  for (const d of out.result.decisions) byPlugin[d.proposal.plugin] = (byPlugin[d.proposal.plugin] ?? 0) + 1;
  figures["dealer.cycle_seconds"] = round(cycleSeconds, 3);
  figures["dealer.block_replica_scan_seconds"] = round(scanSeconds, 3);
  figures["dealer.block_replicas_scanned"] = scanned;
  figures["dealer.proposals"] = out.result.decisions.length;
  figures["dealer.proposals_by_plugin"] = byPlugin;
  figures["dealer.accepted"] = out.result.decisions.filter((d) => d.accepted).length;
  figures["dealer.copies"] = out.result.copies.length;
  figures["dealer.bytes_scheduled"] = out.result.totalBytes;
  figures["dealer.target_sites"] = out.result.targets.length;
  figures["dealer.rejections"] = Object.fromEntries(out.result.rejections);
}

// ---- memory of the whole process after load, Detox and Dealer -------------------------------
{
  const { rssMb, peakRssMb } = processMemory();
  figures["process.rss_mb"] = rssMb;
  figures["process.peak_rss_mb"] = peakRssMb;
  figures["process.rss_limit_mb"] = 16_384;
}
// The ten-times-CMS inventory (issue 20) is about load, publication, Detox and Dealer; the other
// sections would measure nothing new at that size and a second copy of it (the writer's) would not fit.
if (scale.name === "atlas") {
  figures["snapshot.publish_ms"] = benchPublish(state, scale, seed);
  if (values["database-url"]) await db.exec(`DROP SCHEMA ${db.schema} CASCADE`);
  await db.close();
  console.log(JSON.stringify(figures, null, 2));
  Deno.exit(0);
}

// ---- file operations: verified POSIX copies vs cp ------------------------------------------
log("file operations");
Object.assign(figures, await benchFileops());
Object.assign(figures, await benchDatasetActors());
log("file operations to XRootD");
Object.assign(figures, await benchXrootdFileops());

// ---- cluster (PostgreSQL only): failover time, reads spread over 1–3 nodes ------------------
if (values["database-url"]) {
  log("cluster");
  Object.assign(figures, await benchCluster(values["database-url"]));
  Object.assign(figures, await benchClusterFence(values["database-url"]));
}

// ---- consistency: a site scan vs a bare find of the same tree -------------------------------
log("consistency");
Object.assign(figures, await benchConsistency(scale.name === "cms" ? 1_000_000 : 100_000));

// ---- web monitor: pages' server time beside the REST reads they are built on ------------------
// In a process of its own (bench/web.ts, also `deno task bench:web`): it builds a service over its
// own copy of the inventory, which would otherwise double this process's memory.
log("web monitor");
{
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--v8-flags=--max-old-space-size=16384",
      new URL("./web.ts", import.meta.url).pathname,
      "--scale",
      scale.name,
      "--seed",
      String(seed),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`bench/web.ts exited ${out.code}`);
  const { scale: _scale, ...web } = JSON.parse(new TextDecoder().decode(out.stdout));
  Object.assign(figures, web);
}

// ---- parallel readers: replica memory and lag, registry reads during a Detox cycle --------------
// In a process of its own too (bench/readers.ts): the writer and its replica hold the inventory twice.
log("parallel readers");
{
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--v8-flags=--expose-gc,--max-old-space-size=16384",
      new URL("./readers.ts", import.meta.url).pathname,
      "--scale",
      scale.name,
      "--seed",
      String(seed),
      ...(values["database-url"] ? ["--database-url", values["database-url"]] : []),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`bench/readers.ts exited ${out.code}`);
  const { scale: _scale, database: _database, ...readers } = JSON.parse(new TextDecoder().decode(out.stdout));
  Object.assign(figures, readers);
}

// ---- placement quality: the federation simulator (issue 19) ----------------------------------
log("simulate");
Object.assign(figures, benchSimulate());

// ---- snapshot publication: reduce + build for a 100-command batch at this scale -------------
figures["snapshot.publish_ms"] = benchPublish(state, scale, seed);

// ---- durable commands through the writer vs raw COPY of the same rows (bench/journal.ts) ----------
log("journal throughput");
const { figures: journalFigures, system, gateway, publication } = await benchJournal({
  db,
  store,
  partitions,
  scale,
});
Object.assign(figures, journalFigures);
const reads: number[] = [];
// ---- end to end: the same kind of commands injected over HTTP by 8 clients (bench/inject.ts) -------
log("injection over HTTP");
Object.assign(
  figures,
  await benchInject({
    scale: scale.name,
    seed,
    databaseUrl: values["database-url"],
    journalCommandsPerSecond: figures["journal.commands_per_second"] as number,
    journalFirstPassCommandsPerSecond: figures["journal.first_pass_commands_per_second"] as number,
    journalClosedLoopCommandsPerSecond: figures["journal.closed_loop_commands_per_second"] as number,
  }),
);
// ---- reads while the writer commits one 100-command batch after another ----------------------
{
  const rng = new SeededRng(seed + 2);
  let writing = true;
  const reader = (async () => {
    while (writing) {
      for (let i = 0; i < 100; i++) {
        const started = hr();
        const snap = publication.snapshot();
        const d = snap.dataset(datasetName(1 + rng.int(scale.datasets)));
        if (d) {
          snap.replicasOf(d.id);
          snap.blockById(d.blockIds[0]!);
        }
        reads.push(hr() - started);
      }
      await yieldToEventLoop();
    }
  })();
  for (let b = 0; b < 500; b++) {
    const commands: InventoryCommand[] = [];
    for (let k = 0; k < 100; k++) {
      commands.push({
        op: "dataset.upsert",
        name: datasetName(1 + rng.int(scale.datasets)),
        last_update: 1_800_000_000 + b,
      });
    }
    const r = await gateway.submit({ commands });
    if (!r.ok) throw new Error(r.error);
    // PGlite answers in microtasks: without a macrotask turn here the reader would never run.
    await yieldToEventLoop();
  }
  writing = false;
  await reader;
}
reads.sort((a, b) => a - b);
figures["snapshot.reads_while_writing"] = reads.length;
figures["snapshot.read_p50_us_while_writing"] = round(reads[Math.floor(reads.length * 0.5)] ?? 0, 2);
figures["snapshot.read_p99_us_while_writing"] = round(reads[Math.floor(reads.length * 0.99)] ?? 0, 2);

await system.shutdown();
if (values["database-url"]) await db.exec(`DROP SCHEMA ${db.schema} CASCADE`);
await db.close();
console.log(JSON.stringify(figures, null, 2));
