/**
 * `deno run -A bench/journal.ts [--scale small|medium|cms] [--seed N] [--database-url URL] [--rounds N]`
 *
 * Durable commands through the inventory writer against a raw COPY of the
 * same rows (issue 20). bench.ts runs `benchJournal` in its journal section;
 * run alone, this file generates an inventory and runs only that section
 * (`--rounds` times, for A/B runs and profiles: `deno run --cpu-prof …`).
 * Never used by tests.
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { ActorSystem, SystemClock } from "../actors/runtime/mod.ts";
import { inventoryActor } from "../actors/inventory/inventory_actor.ts";
import { InventoryGateway } from "../actors/inventory/inventory_gateway.ts";
import { InventoryPublication } from "../actors/inventory/publication.ts";
import { type Database, openDatabase } from "../adapters/db/database.ts";
import { SqlInjectionQueue } from "../adapters/db/injection_queue.ts";
import { SqlInventoryStore } from "../adapters/db/inventory_store.ts";
import { migrate } from "../adapters/db/migrate.ts";
import type { InventoryCommand, PartitionDefinition } from "../registry/inventory/mod.ts";
import { parsePartitions } from "../policies/partitions.ts";
import { BENCH_PARTITIONS, datasetName, generateInventory, type Scale, SCALES } from "./generate.ts";
import { cpuSecondsSince, round } from "./figures.ts";
import { DATASETS_PER_DOCUMENT, INJECT_CLIENTS } from "./inject_shape.ts";

/** The writer the journal section ran, left running for the sections after it. */
export interface JournalBench {
  figures: Record<string, number>;
  system: ActorSystem;
  gateway: InventoryGateway;
  publication: InventoryPublication;
}

/**
 * `journal.commands_per_second`: new replicas of existing datasets at a new site (a dataset
 * replica and its block replicas), submitted in batches of 2,000 commands all at once, each
 * acknowledged once committed; best of three passes, each to another new site (the first pass
 * also as `journal.first_pass_commands_per_second`). Limit `journal.copy_rows_per_second`: the
 * same rows COPYed into the same tables (best of three). Then the same commands in the injection's
 * shape (`closedLoopPasses`).
 */
export async function benchJournal(
  options: {
    db: Database;
    store: SqlInventoryStore;
    partitions: readonly PartitionDefinition[];
    scale: Scale;
    /** The new site's name; a second run needs another. */
    site?: string;
  },
): Promise<JournalBench> {
  const { db, store, scale } = options;
  const site = options.site ?? "T3_BENCH";
  const system = new ActorSystem({
    clock: new SystemClock(),
    logger: () => ({ debug() {}, info() {}, warn() {}, error() {} }),
  });
  const publication = new InventoryPublication();
  const writer = system.spawn({
    id: "inventory",
    restart: "permanent",
    behavior: () =>
      inventoryActor({
        store,
        injections: new SqlInjectionQueue(db),
        partitions: options.partitions,
        publication,
      }),
  });
  const gateway = new InventoryGateway(system, writer, publication, { highWaterMark: 1_000_000 });
  await publication.ready;
  const figures: Record<string, number> = {};
  const journalCommands = scale.name === "cms" ? 200_000 : 50_000;
  const perBatch = 2_000;
  // Three passes, each to a site of its own, measured like the limit below (best of three): the first
  // pass of a process also compiles the writer, which a node does once in its life. The first pass is
  // reported beside the best (`journal.first_pass_commands_per_second`).
  const passes: {
    commands: InventoryCommand[];
    seconds: number;
    cpuSeconds: number;
    transactions: number;
  }[] = [];
  for (let pass = 0; pass < JOURNAL_PASSES; pass++) {
    const passSite = pass === 0 ? site : `${site}_${pass}`;
    await gateway.submit({
      commands: [{ op: "site.upsert", name: passSite, storage_type: "disk", status: "ready" }],
    });
    const generation = publication.snapshot().generation;
    const commands = newReplicasAt(publication, passSite, journalCommands);
    const t = performance.now();
    const cpu = process.cpuUsage();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < commands.length; i += perBatch) {
      pending.push(
        gateway.submit({ commands: commands.slice(i, i + perBatch) }).then((r) => {
          if (!r.ok) throw new Error(r.error);
        }),
      );
    }
    await Promise.all(pending);
    passes.push({
      commands,
      seconds: (performance.now() - t) / 1000,
      cpuSeconds: cpuSecondsSince(cpu),
      transactions: publication.snapshot().generation - generation,
    });
  }
  const best = passes.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const commands = best.commands;
  figures["journal.commands"] = commands.length;
  figures["journal.commands_per_second"] = Math.round(commands.length / best.seconds);
  figures["journal.first_pass_commands_per_second"] = Math.round(commands.length / passes[0]!.seconds);
  figures["journal.cpu_seconds"] = best.cpuSeconds;
  figures["journal.transactions"] = best.transactions;

  // The limit: the same rows (one per command, at a second new site) copied raw into the same
  // tables of the same database, against the same indexes; best of three, removed after each.
  const copySite = 999_999;
  const snap = publication.snapshot();
  const copyRows: (number | boolean | null)[][] = [];
  const drRows: (number | boolean)[][] = [];
  for (const cmd of commands) {
    if (cmd.op === "block_replica.upsert") {
      const d = snap.dataset(cmd.dataset)!;
      copyRows.push([snap.block(d.id, cmd.block)!.id, copySite, 1, false, 0, 1_700_000_000, null]);
    } else if (cmd.op === "dataset_replica.upsert") {
      drRows.push([snap.dataset(cmd.dataset)!.id, copySite, true, 1]);
    }
  }
  let bestCopy = 0;
  for (let k = 0; k < JOURNAL_PASSES; k++) {
    const t = performance.now();
    await db.copyFrom("dataset_replicas", ["dataset_id", "site_id", "growing", "group_id"], drRows);
    await db.copyFrom("block_replicas", [
      "block_id",
      "site_id",
      "group_id",
      "is_custodial",
      "size",
      "last_update",
      "file_ids",
    ], copyRows);
    bestCopy = Math.max(bestCopy, commands.length / ((performance.now() - t) / 1000));
    await db.exec(
      `DELETE FROM block_replicas WHERE site_id = ${copySite}; DELETE FROM dataset_replicas WHERE site_id = ${copySite}`,
    );
  }
  figures["journal.copy_rows_per_second"] = Math.round(bestCopy);
  figures["journal.ratio_to_copy"] = round(
    figures["journal.commands_per_second"]! / figures["journal.copy_rows_per_second"]!,
    3,
  );
  // After the limit, so that its COPY meets the tables as the journal's passes left them.
  Object.assign(figures, await closedLoopPasses(gateway, publication, site, journalCommands));
  figures["journal.closed_loop_ratio"] = round(
    figures["journal.closed_loop_commands_per_second"]! / figures["journal.commands_per_second"]!,
    3,
  );
  return { figures, system, gateway, publication };
}

/** Passes of the journal and of its limit; the best of each is the figure. */
const JOURNAL_PASSES = 3;

/**
 * `journal.closed_loop_commands_per_second`: the same kind of commands submitted as the injection's
 * callers submit them (`inject_shape.ts`: 8 callers, each with one document of 10 datasets' replicas in
 * flight, atomic, the next sent once the last is durable), to the writer directly: no HTTP, no body, no
 * authentication. Beside the injection it says what its callers' shape alone costs (at most 880 commands
 * in flight, so many small transactions where the journal's batches make a few large ones) and what the
 * HTTP layer costs on top (`registry.inject_to_closed_loop_ratio`). Best of three, each to a new site.
 */
async function closedLoopPasses(
  gateway: InventoryGateway,
  publication: InventoryPublication,
  site: string,
  count: number,
): Promise<Record<string, number>> {
  let best: { perSecond: number; transactions: number } | null = null;
  for (let pass = 0; pass < JOURNAL_PASSES; pass++) {
    const passSite = `${site}_CLOSED_${pass}`;
    await gateway.submit({
      commands: [{ op: "site.upsert", name: passSite, storage_type: "disk", status: "ready" }],
    });
    const generation = publication.snapshot().generation;
    const documents = inDocuments(newReplicasAt(publication, passSite, count));
    const commands = documents.reduce((n, d) => n + d.length, 0);
    const queue = [...documents];
    const t = performance.now();
    await Promise.all(Array.from({ length: INJECT_CLIENTS }, async () => {
      for (let d = queue.shift(); d; d = queue.shift()) {
        const r = await gateway.submit({ commands: d, atomic: true });
        if (!r.ok) throw new Error(r.error);
      }
    }));
    const perSecond = commands / ((performance.now() - t) / 1000);
    const transactions = publication.snapshot().generation - generation;
    if (!best || perSecond > best.perSecond) best = { perSecond, transactions };
  }
  return {
    "journal.closed_loop_commands_per_second": Math.round(best!.perSecond),
    "journal.closed_loop_transactions": best!.transactions,
  };
}

/** Commands (a dataset replica, then its block replicas, dataset after dataset) cut into documents. */
function inDocuments(commands: InventoryCommand[]): InventoryCommand[][] {
  const documents: InventoryCommand[][] = [];
  let datasets = DATASETS_PER_DOCUMENT;
  for (const command of commands) {
    if (command.op === "dataset_replica.upsert" && datasets++ === DATASETS_PER_DOCUMENT) {
      documents.push([]);
      datasets = 1;
    }
    documents[documents.length - 1]!.push(command);
  }
  return documents;
}

/** New replicas of existing datasets at one new site: one dataset replica row, then block replica rows. */
function newReplicasAt(publication: InventoryPublication, site: string, count: number): InventoryCommand[] {
  const commands: InventoryCommand[] = [];
  const snap = publication.snapshot();
  for (let d = 1; commands.length < count; d++) {
    commands.push({ op: "dataset_replica.upsert", dataset: datasetName(d), site, group: "AnalysisOps" });
    const ds = snap.dataset(datasetName(d))!;
    for (const blockId of ds.blockIds) {
      commands.push({
        op: "block_replica.upsert",
        dataset: ds.name,
        block: snap.blockById(blockId)!.name,
        site,
        files: [],
      });
    }
  }
  return commands;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      scale: { type: "string", default: "small" },
      seed: { type: "string", default: "1" },
      rounds: { type: "string", default: "1" },
      "database-url": { type: "string" },
    },
  });
  const scale = SCALES[values.scale!];
  if (!scale) {
    throw new TypeError(`--scale must be one of ${Object.keys(SCALES).join(", ")}, got "${values.scale}"`);
  }
  const url = values["database-url"];
  const partitions = parsePartitions(BENCH_PARTITIONS, "bench partitions");
  const db = await openDatabase(url ? { url, schema: `bench_journal_${Date.now()}` } : {});
  try {
    await migrate(db, Date.now());
    const store = new SqlInventoryStore(db);
    await store.loadTables(partitions);
    console.error(`bench:journal: generating the ${scale.name} inventory`);
    await generateInventory(db, scale, Number(values.seed));
    const rounds: Record<string, number>[] = [];
    for (let r = 0; r < Number(values.rounds); r++) {
      const run = await benchJournal({ db, store, partitions, scale, site: `T3_BENCH_${r}` });
      await run.system.shutdown();
      console.error(`bench:journal: ${JSON.stringify(run.figures)}`);
      rounds.push(run.figures);
    }
    console.log(
      JSON.stringify({ scale: scale.name, database: url ? "postgres" : "pglite", rounds }, null, 2),
    );
  } finally {
    if (url) await db.exec(`DROP SCHEMA ${db.schema} CASCADE`);
    await db.close();
  }
}

if (import.meta.main) await main();
