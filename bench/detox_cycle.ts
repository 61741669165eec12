/**
 * `deno run --allow-all --v8-flags=--max-old-space-size=16384 bench/detox_cycle.ts [--scale cms] [--seed 1] [--runs 1] [--floor]`
 *
 * One Detox cycle exactly as `bench/bench.ts` runs it (same policy, attributes and image), on the bench's
 * inventory built in memory: `generateInventory`'s rows go straight into the loader instead of through a
 * database, so `--scale atlas` (1 M datasets, 30 M block replicas, ~9–10 GB RSS) costs a few minutes of
 * set-up instead of an hour of COPY and load. It is the loop for the Detox engine's speed (issue 20).
 *
 * Prints one JSON line per run: wall and CPU seconds of the cycle (attributes, image, `runDetox`; and the
 * CPU seconds of each of the three), its iterations, evaluations and deletions, and the SHA-256 of the
 * whole `DetoxResult` (JSON): the check that a change to the engine left every decision as it was. Add
 * `--cpu-prof` before the script for a profile. `--floor` then times what a cycle cannot go below in this
 * design: a bare walk over the replica lists, one over every block replica's size, and one evaluation
 * pass of the whole policy over a fresh image. The machine is shared: compare engines in one process,
 * runs alternating (docs/performance.md says how it was done). Never used by tests.
 */
import { parseArgs } from "node:util";
import process from "node:process";
import type { Cell, Database } from "../adapters/db/database.ts";
import { STORED_TABLES } from "../adapters/db/stored_rows.ts";
import { InventoryLoader } from "../registry/inventory/bulk_loader.ts";
import { PartitionTable } from "../registry/inventory/partitions.ts";
import type { SiteStatus, StorageType } from "../registry/inventory/mod.ts";
import { Snapshot } from "../registry/inventory/mod.ts";
import { parsePartitions } from "../policies/partitions.ts";
import { evaluateOnce, runDetox } from "../policies/detox/detox_engine.ts";
import { PartitionImage } from "../policies/detox/partition_image.ts";
import { produceAttributes } from "../policies/producers/attributes.ts";
import { BENCH_PARTITIONS, generateInventory, SCALES } from "./generate.ts";
import { physicsCycleInputs } from "./physics_policy.ts";
import { cpuSecondsSince, round } from "./figures.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    scale: { type: "string", default: "cms" },
    seed: { type: "string", default: "1" },
    runs: { type: "string", default: "1" },
    floor: { type: "boolean", default: false },
  },
});
const scale = SCALES[values.scale!];
if (!scale) throw new TypeError(`--scale must be one of ${Object.keys(SCALES).join(", ")}`);
const seed = Number(values.seed);
const log = (msg: string) => console.error(`detox_cycle: ${msg}`);

// ---- the inventory, in memory ---------------------------------------------------------
const definitions = parsePartitions(BENCH_PARTITIONS, "bench partitions");
// A fresh database registers the partitions with ids 1, 2, … in definition order: the same ids.
const table = new PartitionTable(definitions);
const loader = new InventoryLoader(table);
loader.expectBlocks(scale.datasets * scale.blocksPerDataset + 1);

/** Takes `generateInventory`'s COPY rows into the loader (the tables come in the loader's order). */
const sink = {
  kind: "postgres",
  queryArrays(text: string): Promise<unknown[][]> {
    if (text.includes("SELECT name, id FROM partitions")) {
      return Promise.resolve([...table.byName.values()].map((p) => [p.name, p.id]));
    }
    return Promise.resolve([]); // the "Default" partition: not configured
  },
  exec(): Promise<void> {
    return Promise.resolve();
  },
  copyFrom(name: string, _columns: string[], rows: Iterable<Cell[]>): Promise<void> {
    for (const row of rows) addRow(name, row);
    return Promise.resolve();
  },
} as unknown as Database;

const STORED = new Map(STORED_TABLES.map((t) => [t.name as string, t]));

function addRow(name: string, c: Cell[]): void {
  switch (name) {
    case "groups":
      return loader.addGroup(c[0] as number, c[1] as string, c[2] as "Dataset" | "Block");
    case "sites":
      return loader.addSite({
        id: c[0] as number,
        name: c[1] as string,
        host: c[2] as string,
        storageType: c[3] as StorageType,
        backend: c[4] as string,
        status: c[5] as SiteStatus,
        filenameMappings: {},
      });
    case "quotas":
      return loader.addQuota(c[0] as number, c[1] as number, c[2] as number);
    case "block_replicas": // file_ids come as COPY's JSON text; the store's rows have them parsed
      return STORED.get(name)!.add(
        loader,
        c[6] === null ? c : [...c.slice(0, 6), JSON.parse(c[6] as string)],
      );
    case "datasets":
    case "blocks":
    case "dataset_replicas":
      return STORED.get(name)!.add(loader, c);
    default:
      throw new Error(`unexpected table ${name}`);
  }
}

log(`generating the ${scale.name} inventory in memory`);
let cpu = process.cpuUsage();
const blocks = scale.datasets * scale.blocksPerDataset;
await generateInventory(sink, scale, seed);
const state = loader.finish(0, {
  nextDatasetId: scale.datasets + 1,
  nextBlockId: blocks + 1,
  nextSiteId: scale.sites + 1,
  nextGroupId: 5,
  nextFileId: (blocks + 1) * 1000,
});
log(`inventory built: ${cpuSecondsSince(cpu)} CPU s, RSS ${Math.round(process.memoryUsage().rss / 1e6)} MB`);

// ---- the Detox cycle, as bench/bench.ts runs it -------------------------------------------
const snap = new Snapshot(state);
const { nowMs, accesses, policy } = physicsCycleInputs(scale, seed);
for (let run = 0; run < Number(values.runs); run++) {
  const t = performance.now();
  cpu = process.cpuUsage();
  const attrs = produceAttributes(snap, { now: nowMs / 1000, accesses });
  const attrsCpu = cpuSecondsSince(cpu);
  const image = PartitionImage.build(snap, policy, attrs);
  const imageCpu = cpuSecondsSince(cpu);
  const result = runDetox(image, policy);
  const seconds = (performance.now() - t) / 1000;
  const cpuSeconds = cpuSecondsSince(cpu);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(result)));
  console.log(JSON.stringify({
    scale: scale.name,
    seed,
    run,
    "detox.cycle_seconds": round(seconds, 3),
    "detox.cycle_cpu_seconds": cpuSeconds,
    // The cycle's three parts: attributes, partition image, the engine's run.
    cpu_seconds_attributes: attrsCpu,
    cpu_seconds_image: round(imageCpu - attrsCpu, 3),
    cpu_seconds_run: round(cpuSeconds - imageCpu, 3),
    "detox.iterations": result.iterations,
    "detox.evaluations": result.evaluations,
    "detox.replicas_deleted": result.deletions.length,
    "detox.sites_triggered": result.sites.filter((s) => s.triggered).length,
    sha256: [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join(""),
    rss_mb: Math.round(process.memoryUsage().rss / 1e6),
    loadavg: Deno.loadavg()[0],
  }));
}

// ---- the floor (`--floor`): what one cycle cannot go below in this design ------------------
if (values.floor) {
  // Every dataset's replica lists, then every block replica's size: one bare pass over the columns.
  cpu = process.cpuUsage();
  let lists = 0;
  for (const d of snap.datasets()) lists += snap.replicasOf(d.id).length;
  const listsCpu = cpuSecondsSince(cpu);
  cpu = process.cpuUsage();
  let bytes = 0;
  for (const d of snap.datasets()) {
    for (const dr of snap.replicasOf(d.id)) {
      const columns = dr.columns;
      for (let i = 0; i < columns.length; i++) bytes += columns.sizeAt(i);
    }
  }
  const rowsCpu = cpuSecondsSince(cpu);
  // One evaluation of the whole policy stack over every replica of a fresh image (no deletions).
  const attrs = produceAttributes(snap, { now: nowMs / 1000, accesses });
  const image = PartitionImage.build(snap, policy, attrs);
  cpu = process.cpuUsage();
  const evaluations = evaluateOnce(image, policy);
  console.log(JSON.stringify({
    scale: scale.name,
    floor_cpu_seconds_replica_lists: listsCpu,
    floor_cpu_seconds_block_replica_sizes: rowsCpu,
    floor_cpu_seconds_one_evaluation_pass: cpuSecondsSince(cpu),
    dataset_replicas: lists,
    evaluations,
    bytes,
    loadavg: Deno.loadavg()[0],
  }));
}
