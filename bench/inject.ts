/**
 * `deno run -A bench/inject.ts [--scale small|medium|cms] [--seed N] [--database-url URL]`
 *
 * End to end: objects injected through `POST /data/inventory/injectsync` on a
 * real HTTP listener by 8 concurrent clients, each document the replicas at a
 * new site of 10 datasets with all their blocks (1 dataset replica + 10 block
 * replicas each, 110 objects), three passes to three new sites, the best
 * reported (the first beside it). Run by bench.ts in a process of its own (it
 * builds a service over its own copy of the inventory); its figure is set
 * beside `journal.commands_per_second`, the same kind of commands submitted
 * to the writer directly. Then three passes of documents ten times larger
 * (`registry.inject_large_objects_per_second`), the same clients. Never used by tests.
 */
import { parseArgs } from "node:util";
import { openDatabase } from "../adapters/db/database.ts";
import { SqlInventoryStore } from "../adapters/db/inventory_store.ts";
import { migrate } from "../adapters/db/migrate.ts";
import { createDynamo } from "../service/create_dynamo.ts";
import { parsePartitions } from "../policies/partitions.ts";
import { SystemClock } from "../actors/runtime/mod.ts";
import { SqlUserStore } from "../adapters/db/user_store.ts";
import { parseAuthorization } from "../adapters/db/user_store_port.ts";
import { BENCH_PARTITIONS, generateInventory, SCALES } from "./generate.ts";
import { cpuSecondsSince, round } from "./figures.ts";
import { DATASETS_PER_DOCUMENT, INJECT_CLIENTS as CLIENTS, LARGE_DOCUMENT_DATASETS } from "./inject_shape.ts";
import process from "node:process";

/** Passes of the injection; the best is the figure, as for the journal and its limit. */
const INJECT_PASSES = 3;

interface Pass {
  objects: number;
  documents: number;
  seconds: number;
  cpuSeconds: number;
  transactions: number;
}

/**
 * Runs this file in a process of its own and returns its figures (bench.ts), beside
 * `journal.commands_per_second` of the same run.
 */
export async function benchInject(
  options: {
    scale: string;
    seed: number;
    databaseUrl?: string | undefined;
    journalCommandsPerSecond: number;
    journalFirstPassCommandsPerSecond: number;
    /** The same commands submitted to the writer in this bench's shape, without HTTP (bench/journal.ts). */
    journalClosedLoopCommandsPerSecond: number;
  },
): Promise<Record<string, number>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--v8-flags=--max-old-space-size=16384",
      new URL(import.meta.url).pathname,
      "--scale",
      options.scale,
      "--seed",
      String(options.seed),
      ...(options.databaseUrl ? ["--database-url", options.databaseUrl] : []),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`bench/inject.ts exited ${out.code}`);
  const figures = JSON.parse(new TextDecoder().decode(out.stdout)) as Record<string, number>;
  const ratio = figures["registry.inject_objects_per_second"]! / options.journalCommandsPerSecond;
  figures["registry.inject_to_journal_ratio"] = round(ratio, 3);
  // Each side's first pass (what a process does before anything is compiled), for the record.
  const first = figures["registry.inject_first_pass_objects_per_second"]! /
    options.journalFirstPassCommandsPerSecond;
  figures["registry.inject_to_journal_first_pass_ratio"] = round(first, 3);
  // Against the writer fed in the same shape (8 callers, a 110-object document each): what HTTP costs.
  const closed = figures["registry.inject_objects_per_second"]! / options.journalClosedLoopCommandsPerSecond;
  figures["registry.inject_to_closed_loop_ratio"] = round(closed, 3);
  // Documents ten times larger, same clients: the injection when its callers' shape is not what bounds it.
  const large = figures["registry.inject_large_objects_per_second"]! / options.journalCommandsPerSecond;
  figures["registry.inject_large_to_journal_ratio"] = round(large, 3);
  return figures;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      scale: { type: "string", default: "small" },
      seed: { type: "string", default: "1" },
      "database-url": { type: "string" },
    },
  });
  const scale = SCALES[values.scale!];
  if (!scale) {
    throw new TypeError(`--scale must be one of ${Object.keys(SCALES).join(", ")}, got "${values.scale}"`);
  }
  const log = (msg: string) => console.error(`bench:inject: ${msg}`);
  const url = values["database-url"];

  const partitions = parsePartitions(BENCH_PARTITIONS, "bench partitions");
  const db = await openDatabase(url ? { url, schema: `bench_inject_${Date.now()}` } : {});
  await migrate(db, Date.now());
  await new SqlInventoryStore(db).loadTables(partitions);
  log(`generating the ${scale.name} inventory`);
  await generateInventory(db, scale, Number(values.seed));
  const blocks = new Map<string, string[]>();
  for (
    const [dataset, block] of await db.queryArrays(
      "SELECT d.name, b.name FROM blocks b JOIN datasets d ON d.id = b.dataset_id ORDER BY d.id, b.id",
    )
  ) {
    const list = blocks.get(dataset as string) ?? [];
    list.push(block as string);
    blocks.set(dataset as string, list);
  }
  const { token } = await new SqlUserStore(db).addUser({
    name: "bench",
    authorizations: [parseAuthorization("admin:inventory")],
  }, Date.now());
  log("loading it into the service");
  const dynamo = await createDynamo({
    database: db,
    clock: new SystemClock(),
    partitions,
    dealer: null,
    fileops: null,
    scheduler: null,
    consistency: null,
  });
  await dynamo.ready;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, dynamo.app.fetch);
  const base = `http://127.0.0.1:${server.addr.port}`;

  async function inject(document: unknown): Promise<void> {
    const res = await fetch(`${base}/data/inventory/injectsync`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(document),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`injectsync: ${res.status} ${text.slice(0, 300)}`);
  }

  const names = [...blocks.keys()];
  const journalRows = async () =>
    (await db.queryArrays("SELECT count(*)::integer FROM inventory_journal"))[0]![0] as number;
  /** One pass: every dataset's replica at `site`, `datasetsPerDocument` datasets a document. */
  async function pass(site: string, datasetsPerDocument: number): Promise<Pass> {
    await inject({ site: [{ name: site, storage_type: "disk", status: "ready" }] });
    const documents: { datasetreplica: unknown[] }[] = [];
    let objects = 0;
    for (let i = 0; i + datasetsPerDocument <= names.length; i += datasetsPerDocument) {
      const replicas = names.slice(i, i + datasetsPerDocument).map((dataset) => ({
        dataset,
        site,
        group: "AnalysisOps",
        blockreplicas: blocks.get(dataset)!.map((block) => ({ block })),
      }));
      objects += replicas.reduce((n, r) => n + 1 + r.blockreplicas.length, 0);
      documents.push({ datasetreplica: replicas });
    }
    log(`${site}: ${CLIENTS} clients injecting ${objects} objects in ${documents.length} documents`);
    const queue = [...documents];
    const rowsBefore = await journalRows();
    const cpu = process.cpuUsage();
    const t = performance.now();
    await Promise.all(Array.from({ length: CLIENTS }, async () => {
      for (let d = queue.shift(); d; d = queue.shift()) await inject(d);
    }));
    const seconds = (performance.now() - t) / 1000;
    return {
      objects,
      documents: documents.length,
      seconds,
      cpuSeconds: cpuSecondsSince(cpu),
      transactions: (await journalRows()) - rowsBefore,
    };
  }
  const fastest = (passes: Pass[]) =>
    passes.reduce((a, b) => (b.objects / b.seconds > a.objects / a.seconds ? b : a));

  // Three passes, each to a site of its own, as the journal beside it is measured (best of three;
  // the first pass, which also compiles the server and the writer, reported beside the best).
  const passes: Pass[] = [];
  for (let p = 0; p < INJECT_PASSES; p++) {
    passes.push(await pass(p === 0 ? "T3_INJECT" : `T3_INJECT_${p}`, DATASETS_PER_DOCUMENT));
  }
  // Then documents ten times larger (same clients, same objects): how much of the injection's rate is
  // its callers' shape (how many objects are in flight, so how large each transaction is), not HTTP.
  const large: Pass[] = [];
  for (let p = 0; p < INJECT_PASSES; p++) {
    large.push(await pass(`T3_INJECT_LARGE_${p}`, LARGE_DOCUMENT_DATASETS));
  }
  const best = fastest(passes);
  const bestLarge = fastest(large);
  console.log(JSON.stringify(
    {
      "registry.inject_clients": CLIENTS,
      "registry.inject_objects": best.objects,
      "registry.inject_documents": best.documents,
      "registry.inject_objects_per_second": Math.round(best.objects / best.seconds),
      "registry.inject_first_pass_objects_per_second": Math.round(passes[0]!.objects / passes[0]!.seconds),
      // This process's CPU (server and clients) while injecting, and the writer's transactions.
      "registry.inject_cpu_seconds": best.cpuSeconds,
      "registry.inject_transactions": best.transactions,
      "registry.inject_large_documents": bestLarge.documents,
      "registry.inject_large_objects_per_second": Math.round(bestLarge.objects / bestLarge.seconds),
      "registry.inject_large_transactions": bestLarge.transactions,
    },
    null,
    2,
  ));
  await server.shutdown();
  await dynamo.close();
  if (url) await db.exec(`DROP SCHEMA ${db.schema} CASCADE`);
  await db.close();
}

if (import.meta.main) await main();
