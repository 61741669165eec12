/**
 * `deno run --allow-all --v8-flags=--expose-gc bench/load.ts --database-url URL [--scale small|cms] [--rounds N] [--split] [--cold-limit]`
 *
 * The bench's load section alone, repeated: the inventory is generated once into
 * a kept schema (`bench_load_<scale>`; `--fresh` regenerates it), then each
 * round loads it through `SqlInventoryStore` and reads the same rows with the
 * bare SELECTs (`load_limit.ts`: streamed, the limit, and paged), in alternating
 * order, printing wall and CPU seconds of each and the ratios. For A/B work on the load path without
 * rerunning the whole bench. `--split` adds a round that says where the CPU went,
 * table by table, in the load and in the streamed bare read. `--cold-limit` reads the streamed limit once
 * more in a fresh process (nothing compiled), for round 0's cold load to compare with. Never used by tests.
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { openDatabase } from "../adapters/db/database.ts";
import { SqlInventoryStore } from "../adapters/db/inventory_store.ts";
import { migrate } from "../adapters/db/migrate.ts";
import { parsePartitions } from "../policies/partitions.ts";
import { BENCH_PARTITIONS, generateInventory, SCALES } from "./generate.ts";
import { bareSelect, bareStream, coldBareStream, LOADED_TABLES } from "./load_limit.ts";
import { InventoryLoader } from "../registry/inventory/mod.ts";
import type { TableSink } from "../adapters/db/inventory_store_port.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    scale: { type: "string", default: "small" },
    "database-url": { type: "string" },
    rounds: { type: "string", default: "3" },
    fresh: { type: "boolean", default: false },
    split: { type: "boolean", default: false },
    "cold-limit": { type: "boolean", default: false },
  },
});
const scale = SCALES[values.scale!];
if (!scale || scale.name === "atlas") throw new TypeError(`--scale small|medium|cms, got "${values.scale}"`);
const url = values["database-url"];
if (!url) throw new TypeError("--database-url postgres://… is required (the schema is kept there)");
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const log = (msg: string) => console.error(`load: ${msg}`);

const schema = `bench_load_${scale.name}`;
let db = await openDatabase({ url, schema });
const [exists] = await db.queryArrays("SELECT count(*)::int FROM pg_tables WHERE schemaname = $1", [schema]);
const partitions = parsePartitions(BENCH_PARTITIONS, "bench partitions");
if (values.fresh || Number(exists?.[0]) === 0) {
  await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db.close();
  db = await openDatabase({ url, schema });
  await migrate(db, Date.now());
  await new SqlInventoryStore(db).loadTables(partitions); // registers the partitions
  log(`generating the ${scale.name} inventory into schema ${schema}`);
  await generateInventory(db, scale, 1);
  await db.exec("ANALYZE");
}
const store = new SqlInventoryStore(db);

for (let round = 0; round < Number(values.rounds); round++) {
  const timed = async <T>(f: () => Promise<T>) => {
    const cpu = process.cpuUsage();
    const t = performance.now();
    const result = await f();
    const d = process.cpuUsage(cpu);
    return { result, wall: (performance.now() - t) / 1000, cpu: (d.user + d.system) / 1e6 };
  };
  // As bench.ts: the heap after a full GC before and after; the load's time excludes both GCs.
  const load = async () => {
    gc();
    const before = Deno.memoryUsage().heapUsed;
    const { result: state, wall, cpu } = await timed(() => store.loadTables(partitions));
    gc();
    const c = state.counts;
    const objects = c.datasets + c.blocks + c.sites + c.groups + c.datasetReplicas + c.blockReplicas;
    const bytesPerObject = Math.round((Deno.memoryUsage().heapUsed - before) / objects);
    return { wall, cpu, result: { objects, bytesPerObject } };
  };
  const bare = async () => {
    gc();
    const paged = await timed(() => bareSelect(db));
    gc();
    return { ...paged, streamed: await timed(() => bareStream(db)) };
  };
  const bareFirst = round % 2 === 1;
  const b1 = bareFirst ? await bare() : null;
  const l = await load();
  const b = b1 ?? await bare();
  console.log(JSON.stringify({
    round,
    order: bareFirst ? "bare, load" : "load, bare",
    load_seconds: round3(l.wall),
    load_cpu_seconds: round3(l.cpu),
    bare_seconds: round3(b.wall),
    bare_cpu_seconds: round3(b.cpu),
    bare_stream_seconds: round3(b.streamed.wall),
    bare_stream_cpu_seconds: round3(b.streamed.cpu),
    ratio: round3(l.wall / b.wall),
    cpu_ratio: round3(l.cpu / b.cpu),
    objects: l.result.objects,
    rows: b.result,
    bytes_per_object: l.result.bytesPerObject,
    loadavg: Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" "),
  }));
}
if (values.split) console.log(JSON.stringify(await splitRound()));
if (values["cold-limit"]) {
  // The streamed read in a fresh process: what round 0's load (this process's first) compares with
  // when both start cold. Its own process, so this one's compiled driver does not help it.
  const cold = await coldBareStream(url, schema);
  console.log(
    JSON.stringify({
      cold_limit_seconds: round3(cold.seconds),
      cold_limit_cpu_seconds: round3(cold.cpuSeconds),
    }),
  );
}
await db.close();

/** CPU seconds per table: the load's (from each loader method's first row to the next's) and the bare read's. */
async function splitRound() {
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  gc();
  const marks: [string, number][] = [];
  const loader = new InventoryLoader(await store.partitionTable(partitions));
  const methods = [
    "addGroup",
    "addSite",
    "addQuota",
    "addDataset",
    "addBlock",
    "addDatasetReplica",
    "addBlockReplica",
  ] as const;
  const sink = Object.fromEntries(methods.map((m) => {
    const add = (loader[m] as (...a: unknown[]) => void).bind(loader);
    let first = true;
    return [m, (...a: unknown[]) => {
      if (first) marks.push([m, cpu()]), first = false;
      add(...a);
    }];
  })) as unknown as TableSink;
  sink.expectBlocks = (count) => loader.expectBlocks(count); // as the load sizes its name index
  const checkpoint = await store.streamTables(partitions, sink);
  marks.push(["finish", cpu()]);
  loader.finish(checkpoint.generation, checkpoint.counters);
  marks.push(["", cpu()]);
  const load = Object.fromEntries(marks.slice(0, -1).map(([m, c], i) => [m, round3(marks[i + 1]![1] - c)]));
  gc();
  const bare: Record<string, number> = {};
  for (const [table, keys, columns] of LOADED_TABLES) {
    const c = cpu();
    await db.streamArrays?.(`SELECT ${columns} FROM ${table} ORDER BY ${keys.join(", ")}`, [], () => {});
    bare[table] = round3(cpu() - c);
  }
  return { split_load_cpu_seconds: load, split_bare_stream_cpu_seconds: bare };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
