/**
 * Dataset actors (issue 15): activate 100,000 of them and passivate them on
 * the shared timer wheel. Activation is measured in batches of 1,000 touches
 * run to idle (the median batch, per actor), with the durable read answered
 * from memory (the store's speed is the fileops benchmark's business); the
 * heap growth per active actor is taken with a forced GC. Beside them, the
 * raw limits: a Map insert of the same entity object, and Akka's ~400 bytes
 * per idle actor (docs/architecture.md).
 *
 * `deno run -A --v8-flags=--expose-gc bench/dataset_actors.ts` runs it alone.
 */
import { ActorSystem, TestClock } from "../actors/runtime/mod.ts";
import { datasetActors, DatasetActorStats, type DatasetMsg } from "../actors/dataset/dataset_actors.ts";
import type { DatasetWorkSources } from "../actors/dataset/dataset_work.ts";

export async function benchDatasetActors(n = 100_000): Promise<Record<string, number>> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const clock = new TestClock(0);
  const system = new ActorSystem({ clock, logger: () => ({ debug() {}, info() {}, warn() {}, error() {} }) });
  const stats = new DatasetActorStats();
  const sources: DatasetWorkSources = {
    fileops: { filesOf: () => Promise.resolve([]) },
    requests: {
      openCopyRequests: () => Promise.resolve([]),
      openDeletionRequests: () => Promise.resolve([]),
    },
  };
  const idleMs = 600_000;
  const ref = system.spawn<DatasetMsg>({
    id: "datasets",
    restart: "permanent",
    mailbox: { capacity: n + 10 },
    behavior: datasetActors({
      sources,
      snapshot: () => {
        throw new Error("not used");
      },
      submit: () => Promise.resolve({ ok: true }),
      tracker: () => null,
      idleMs,
      stats,
    }),
  });
  await system.runUntilIdle();
  const names = Array.from({ length: n }, (_, i) => `/Bench${i}/Run2026-v1/AOD`);
  gc();
  const heapBefore = Deno.memoryUsage().heapUsed;
  const batch = 1_000;
  const perActorUs: number[] = [];
  for (let i = 0; i < n; i += batch) {
    const t = performance.now();
    for (let j = i; j < Math.min(i + batch, n); j++) ref.tell({ type: "touch", dataset: names[j]! });
    await system.runUntilIdle();
    perActorUs.push(((performance.now() - t) * 1000) / batch);
  }
  await system.runUntilIdle();
  if (stats.active !== n) throw new Error(`activated ${stats.active} of ${n}`);
  gc();
  const heapAfter = Deno.memoryUsage().heapUsed;
  let t = performance.now();
  clock.advance(idleMs + 20_000);
  await system.runUntilIdle();
  const passivateSeconds = (performance.now() - t) / 1000;
  if (stats.active !== 0 || stats.passivations !== n) {
    throw new Error(`passivated ${stats.passivations} of ${n}; ${stats.active} still active`);
  }
  await system.shutdown();
  // The limit: the entity object put in a Map by hand, no message, no wheel.
  const bare = new Map<string, unknown>();
  t = performance.now();
  for (const name of names) bare.set(name, { stash: null, landed: null, busy: 0 });
  const bareUs = ((performance.now() - t) * 1000) / n;
  perActorUs.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    "actors.dataset_actors": n,
    "actors.dataset_activation_us": round(perActorUs[Math.floor(perActorUs.length / 2)]!),
    "actors.dataset_activation_limit_us": round(bareUs),
    "actors.bytes_per_active_dataset_actor": Math.round((heapAfter - heapBefore) / n),
    "actors.bytes_per_idle_actor_akka_bar": 400,
    "actors.dataset_passivation_seconds": round(passivateSeconds),
  };
}

if (import.meta.main) console.log(JSON.stringify(await benchDatasetActors(), null, 2));
