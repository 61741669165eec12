/**
 * `deno run --allow-all bench/readers.ts [--scale small|medium|cms] [--seed N] [--in-process]
 * [--database-url URL] [--replica-only]`:
 * the parallel readers (docs/parallel_readers.md). Run by `deno task bench` in a process of its
 * own, since it holds the inventory twice (writer + replica). Never used by tests.
 *
 * - `process.rss_mb_cms`: resident memory with the writer and one reader replica loaded, beside
 *   the heap the writer's inventory alone takes (`inventory.heap_mb_writer_only`).
 * - `replica.build_seconds` and `replica.build_write_stall_ms`: building the replica, and the
 *   longest a write (one at a time, each awaited) took meanwhile, beside the longest of the same
 *   writes for 5 s without a build (`replica.write_max_ms_no_build`), and the longest the main
 *   event loop went without a turn (`main_isolate.longest_stall_ms_during_build`). `--replica-only`
 *   stops after the lag figures.
 * - `replica.lag_ms_p99`: publication → applied on the replica while the writer commits 10,000
 *   commands/s (limit 100 ms), beside the rate actually committed.
 * - `registry.heavy_read_ms_median`: `GET /data/inventory/stats/usage` (every dataset), answered on the
 *   reader replica (in-process with `--in-process`), beside the small reads' p99 meanwhile.
 * - `registry.read_p99_ms_idle` and `registry.read_p99_ms_during_detox`: p99 of
 *   `GET /data/inventory/sites` over HTTP from 8 concurrent clients, idle and while a Detox cycle
 *   (dry run, same decisions) runs; target ≤ 50 ms and ≤ 5× idle. `--in-process` decides the
 *   cycle on the main isolate instead (the figures before this change).
 */
import { parseArgs } from "node:util";
import { openDatabase } from "../adapters/db/database.ts";
import { SqlInventoryStore } from "../adapters/db/inventory_store.ts";
import { SqlInjectionQueue } from "../adapters/db/injection_queue.ts";
import { migrate } from "../adapters/db/migrate.ts";
import { createDynamo } from "../service/create_dynamo.ts";
import { parsePartitions } from "../policies/partitions.ts";
import { ActorSystem, SystemClock } from "../actors/runtime/mod.ts";
import { inventoryActor } from "../actors/inventory/inventory_actor.ts";
import { InventoryGateway } from "../actors/inventory/inventory_gateway.ts";
import { InventoryPublication } from "../actors/inventory/publication.ts";
import { replicaActor, ReplicaSlot } from "../actors/inventory/replica_host.ts";
import { SqlUserStore } from "../adapters/db/user_store.ts";
import { parseAuthorization } from "../adapters/db/user_store_port.ts";
import type { InventoryCommand } from "../registry/inventory/mod.ts";
import { BENCH_PARTITIONS, datasetName, generateInventory, SCALES } from "./generate.ts";
import { PHYSICS_POLICY } from "./physics_policy.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    scale: { type: "string", default: "small" },
    seed: { type: "string", default: "1" },
    "in-process": { type: "boolean", default: false },
    "database-url": { type: "string" },
    "replica-only": { type: "boolean", default: false },
  },
});
const scale = SCALES[values.scale!];
if (!scale) {
  throw new TypeError(`--scale must be one of ${Object.keys(SCALES).join(", ")}, got "${values.scale}"`);
}
const log = (msg: string) => console.error(`bench:readers: ${msg}`);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const p = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.min(s.length - 1, Math.floor(s.length * q))] ?? 0) * 100) / 100;
};
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const figures: Record<string, unknown> = { scale: scale.name };

const partitions = parsePartitions(BENCH_PARTITIONS, "bench partitions");
const url = values["database-url"];
const db = await openDatabase(url ? { url, schema: `bench_readers_${Date.now()}` } : {});
figures["database"] = url ? "postgres" : "pglite";
await migrate(db, Date.now());
const store = new SqlInventoryStore(db);
await store.loadTables(partitions);
log(`generating the ${scale.name} inventory`);
await generateInventory(db, scale, Number(values.seed));

// ---- the writer and one replica: memory, and the replica's lag under 10,000 commands/s ----------
{
  log("writer + replica");
  const system = new ActorSystem({ clock: new SystemClock(), logger: () => silent });
  const publication = new InventoryPublication();
  const writer = system.spawn({
    id: "inventory",
    restart: "permanent",
    behavior: () => inventoryActor({ store, injections: new SqlInjectionQueue(db), partitions, publication }),
  });
  const gateway = new InventoryGateway(system, writer, publication, {
    highWaterMark: 1_000_000,
    timeoutMs: 600_000, // a write waiting for a paused writer is measured, not abandoned
  });
  await publication.ready;
  gc();
  figures["inventory.heap_mb_writer_only"] = mb(Deno.memoryUsage().heapUsed);
  // A first write before the build: the first commit's warm-up is not the build's.
  await gateway.submit({
    commands: [{ op: "dataset.upsert", name: datasetName(1), last_update: 1_799_999_999 }],
  });
  const slot = new ReplicaSlot();
  let t = performance.now();
  system.spawn({
    id: "replica",
    restart: "permanent",
    behavior: () => replicaActor({ publication, partitions, slot }),
  });
  // One write at a time while the replica is built: the longest one is how long the writer stalled.
  let building = true;
  const built = slot.whenReady().then(async (r) => {
    await r.caughtUp(publication.snapshot().generation);
    building = false;
    return r;
  });
  /** Writes one at a time while `going()`: each one's latency and when it started (ms from `t`). */
  const writeOneByOne = async (going: () => boolean, from: number) => {
    const latencies: number[] = [];
    let longest = 0;
    let longestAt = 0;
    for (let i = from; going(); i++) {
      const started = performance.now();
      const name = datasetName(1 + (i * 7919) % scale.datasets);
      const reply = await gateway.submit({
        commands: [{ op: "dataset.upsert", name, last_update: 1_800_000_000 + i }],
      });
      if (!reply.ok) throw new Error(`write: ${reply.error}`);
      const ms = performance.now() - started;
      if (ms > longest) [longest, longestAt] = [ms, started - t];
      latencies.push(ms);
    }
    return { latencies, longestAt };
  };
  // The longest the main isolate's event loop went without running a 5 ms timer during the build.
  let lastTick = performance.now();
  let longestLoopStall = 0;
  let longestLoopStallAt = 0;
  const monitor = setInterval(() => {
    const now = performance.now();
    if (now - lastTick > longestLoopStall) {
      [longestLoopStall, longestLoopStallAt] = [now - lastTick, lastTick - t];
    }
    lastTick = now;
  }, 5);
  const during = await writeOneByOne(() => building, 0);
  clearInterval(monitor);
  figures["main_isolate.longest_stall_ms_during_build"] = Math.round(longestLoopStall);
  figures["main_isolate.longest_stall_during_build_at_s"] = Math.round(longestLoopStallAt / 10) / 100;
  const replica = await built;
  figures["replica.build_seconds"] = Math.round((performance.now() - t) / 10) / 100;
  figures["replica.build_writes"] = during.latencies.length;
  figures["replica.build_write_p50_ms"] = p(during.latencies, 0.5);
  figures["replica.build_write_stall_ms"] = p(during.latencies, 1);
  figures["replica.build_write_stall_at_s"] = Math.round(during.longestAt / 10) / 100;
  // The same writes for 5 s with no build, for contrast (the machine's own noise).
  const quietUntil = performance.now() + 5_000;
  const quiet = await writeOneByOne(() => performance.now() < quietUntil, during.latencies.length);
  figures["replica.write_max_ms_no_build"] = p(quiet.latencies, 1);
  gc();
  // Named after the scale, so that a small run is never read as the CMS figure.
  figures[`process.rss_mb_${scale.name}`] = mb(Deno.memoryUsage().rss);

  // 100 commands every 10 ms for 5 s, without waiting for the answers (the writer group-commits).
  const seconds = 5;
  const perTick = 100;
  replica.takeLagSamples();
  const pending: Promise<unknown>[] = [];
  let sent = 0;
  t = performance.now();
  for (let tick = 0; tick < seconds * 100; tick++) {
    const commands: InventoryCommand[] = [];
    for (let k = 0; k < perTick; k++) {
      const d = 1 + ((tick * perTick + k) * 7919) % scale.datasets;
      commands.push({ op: "dataset.upsert", name: datasetName(d), last_update: 1_900_000_000 + tick });
    }
    pending.push(gateway.submit({ commands }));
    sent += commands.length;
    const due = t + (tick + 1) * 10;
    const wait = due - performance.now();
    await new Promise((r) => setTimeout(r, Math.max(0, wait)));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - t) / 1000;
  await replica.caughtUp(publication.snapshot().generation);
  const lag = replica.takeLagSamples();
  figures["replica.writer_commands_per_second"] = Math.round(sent / elapsed);
  figures["replica.writer_commands_per_second_target"] = 10_000;
  figures["replica.lag_samples"] = lag.length;
  figures["replica.lag_ms_p50"] = p(lag, 0.5);
  figures["replica.lag_ms_p99"] = p(lag, 0.99);
  figures["replica.lag_ms_p99_limit"] = 100;
  await system.shutdown();
}

// ---- small reads over HTTP from 8 clients, idle and during a Detox cycle ------------------------
if (!values["replica-only"]) {
  gc();
  const { token } = await new SqlUserStore(db).addUser({
    name: "bench",
    authorizations: [parseAuthorization("admin:application")],
  }, Date.now());
  log(values["in-process"] ? "the service (Detox on the main isolate)" : "the service (Detox on a replica)");
  const dynamo = await createDynamo({
    database: db,
    clock: new SystemClock(),
    partitions,
    detox: {
      policies: [{ file: "Physics.txt", text: PHYSICS_POLICY }],
      intervalMs: 0,
      deletionPerIteration: 0.02,
      protectedSites: [],
      enforcer: null,
    },
    dealer: null,
    fileops: null,
    scheduler: null,
    readers: !values["in-process"],
    // A CMS-scale cycle may take longer than the registry's default 60 s request deadline.
    requestDeadlineMs: 30 * 60_000,
  });
  await dynamo.ready;
  await dynamo.tree.replicas?.whenReady();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, dynamo.app.fetch);
  const base = `http://127.0.0.1:${server.addr.port}`;

  /** 8 clients read until `until` settles (or for `ms`); each latency in ms. */
  const readers = async (until: Promise<unknown> | number): Promise<number[]> => {
    const latencies: number[] = [];
    let done = false;
    const stop = typeof until === "number" ? new Promise((r) => setTimeout(r, until)) : until;
    stop.finally(() => (done = true));
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (!done) {
        const t = performance.now();
        const res = await fetch(`${base}/data/inventory/sites`);
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`/data/inventory/sites: ${res.status}`);
        latencies.push(performance.now() - t);
      }
    }));
    return latencies;
  };
  await readers(1000); // warm-up
  const idle = await readers(5000);
  const suffix = values["in-process"] ? "_main_isolate" : "";

  // A heavy read (the inventory statistics: every dataset) three times, under the same small reads.
  log("heavy reads under reads");
  const heavyMs: number[] = [];
  const heavyReads = (async () => {
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const res = await fetch(`${base}/data/inventory/stats/usage?list_by=group&physical=n`);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`/data/inventory/stats/usage: ${res.status}`);
      heavyMs.push(performance.now() - t0);
    }
  })();
  const heavyMonitor = stallMonitor();
  const duringHeavy = await readers(heavyReads);
  figures[`registry.heavy_read_ms_median${suffix}`] = p(heavyMs, 0.5);
  figures[`registry.read_p99_ms_during_heavy_reads${suffix}`] = p(duringHeavy, 0.99);
  figures[`main_isolate.longest_stall_ms_during_heavy_reads${suffix}`] = heavyMonitor.stop().longestStall;
  log("a Detox cycle under reads");
  const t = performance.now();
  const cycle = fetch(`${base}/data/detox/run?mode=dry-run`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}` },
  }).then(async (res) => {
    const body = await res.json();
    if (!res.ok) throw new Error(`detox run: ${res.status} ${JSON.stringify(body)}`);
    return body.data[0] as { deleted_replicas?: number; deletions?: number };
  });
  const monitor = stallMonitor();
  const during = await readers(cycle);
  const { longestStall, stalls } = monitor.stop();
  const summary = await cycle;
  figures[`detox.cycle_seconds_under_reads${suffix}`] = Math.round((performance.now() - t) / 10) / 100;
  figures["detox.cycle_deletions"] = summary.deleted_replicas ?? summary.deletions ?? null;
  figures["registry.read_p99_ms_idle"] = p(idle, 0.99);
  figures["registry.reads_idle"] = idle.length;
  figures[`registry.read_p99_ms_during_detox${suffix}`] = p(during, 0.99);
  figures[`registry.read_max_ms_during_detox${suffix}`] = p(during, 1);
  figures[`main_isolate.longest_stall_ms_during_detox${suffix}`] = longestStall;
  figures[`main_isolate.stalls_over_50ms_during_detox${suffix}`] = stalls;
  figures[`registry.reads_during_detox${suffix}`] = during.length;
  figures["registry.read_p99_ms_during_detox_limit"] = Math.min(
    50,
    5 * (figures["registry.read_p99_ms_idle"] as number),
  );
  await server.shutdown();
  await dynamo.close();
}
/**
 * The longest the main isolate's event loop went without running a 5 ms timer, and every stall over
 * 50 ms as [ms after the start when it ended, its length].
 */
function stallMonitor() {
  const start = performance.now();
  let last = start;
  let longest = 0;
  const stalls: [number, number][] = [];
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    if (now - last > 50) stalls.push([Math.round(now - start), Math.round(now - last)]);
    last = now;
  }, 5);
  return {
    stop() {
      clearInterval(timer);
      return { longestStall: Math.round(longest), stalls };
    },
  };
}

if (url) await db.exec(`DROP SCHEMA ${db.schema} CASCADE`);
await db.close();
console.log(JSON.stringify(figures, null, 2));
