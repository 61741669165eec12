/**
 * `deno task demo`: the whole service on a local federation of real POSIX
 * sites, on a simulated clock. Production writes real files and injects them,
 * users' jobs and accesses flow in, requests are made — all through the REST
 * registry — while the scheduler runs the demo sequence (updater, request
 * tracker, Dealer, Detox) every four simulated hours. Time moves in ten-minute
 * steps, and each step lets every agent finish before the next: a run with
 * the same seed makes the same decisions.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { SeededRng, TestClock } from "../actors/runtime/mod.ts";
import { type Database, openDatabase } from "../adapters/db/database.ts";
import { SqlUserStore } from "../adapters/db/user_store.ts";
import { parseAuthorization } from "../adapters/db/user_store_port.ts";
import { SqlInventoryStore } from "../adapters/db/inventory_store.ts";
import { migrate } from "../adapters/db/migrate.ts";
import { adler32Hex } from "../adapters/storage/adler32.ts";
import { SiteStorage } from "../adapters/storage/site_storage.ts";
import type { StorageAdapter } from "../adapters/storage/storage_port.ts";
import type { Snapshot } from "../registry/inventory/mod.ts";
import { createDynamo, type Dynamo } from "../service/create_dynamo.ts";
import type { WebOptions } from "../registry/http/web/web_app.tsx";
import type { SchedulerMsg, SequenceView } from "../actors/agents/scheduler.ts";
import { ask } from "../actors/runtime/mod.ts";
import { parsePartitions } from "../policies/partitions.ts";
import { parseDealerConfig } from "../policies/dealer/dealer_config.ts";
import { parseSequenceFile } from "../policies/scheduler/sequence_file.ts";
import { demoEvents, demoSites } from "./demo_federation.ts";
import { UnreliableStorage } from "./unreliable_storage.ts";
import { fileBytes, type ProducedDataset, Workload } from "./workload.ts";
import { checkInvariants, type EndState } from "./invariants.ts";
import { type DemoSummary, summarize } from "./summary.ts";
import { StorageSiteLister } from "../adapters/storage/storage_lister.ts";
import {
  consistencyHours,
  DEMO_CONSISTENCY,
  DEMO_CONSISTENCY_SITES,
  injectConsistencyFaults,
} from "./consistency_faults.ts";

export interface DemoOptions {
  /** `$DYNAMO_HOME`: the demo lives in `<home>/demo`. */
  home: string;
  days: number;
  seed: number;
  /** Multiplies site quotas and production (1 = the default demo). */
  scale?: number;
  /** An already opened database (tests); by default PGlite in `<home>/demo/db`. */
  database?: Database;
  /** One line of progress (a terminal shows it in place). */
  progress?: (line: string) => void;
  /** The web monitor's settings (the browser tests refresh pages faster). */
  web?: WebOptions;
}

export interface DemoRun {
  summary: DemoSummary;
  dynamo: Dynamo;
  /** A token of the demo's operator, for --serve. */
  token: string;
  close(): Promise<void>;
}

const STEP_MS = 600_000;
const HOUR_MS = 3600_000;
export const DEMO_START_MS = Date.UTC(2026, 0, 5);
const EXAMPLES = new URL("../examples/demo/", import.meta.url);

export async function runDemo(options: DemoOptions): Promise<DemoRun> {
  // Absolute, whatever the caller passed: the directory becomes file:// URLs and outlives any chdir.
  const dir = resolve(options.home, "demo");
  const scale = options.scale ?? 1;
  const hours = Math.max(1, Math.round(options.days * 24));
  const events = demoEvents(hours);
  const sites = demoSites(scale);
  const progress = options.progress ?? (() => {});

  // Each run starts afresh in the same directory, so that a seed reproduces it.
  for (const sub of ["sites", "db", "config"]) {
    await Deno.remove(`${dir}/${sub}`, { recursive: true }).catch(() => {});
  }
  await Deno.mkdir(`${dir}/config/detox`, { recursive: true });
  const config: Record<string, string> = {};
  for (const name of ["partitions.txt", "detox/Physics.txt", "dealer.json", "demo.seq"]) {
    config[name] = await Deno.readTextFile(new URL(name, EXAMPLES));
    await Deno.writeTextFile(`${dir}/config/${name}`, config[name]!);
  }
  const rootOf = (site: string) => `${dir}/sites/${site}`;
  for (const s of sites) await Deno.mkdir(rootOf(s.name), { recursive: true });
  const backendOf = (site: string) =>
    `${pathToFileURL(rootOf(site)).href}${
      sites.find((s) => s.name === site)!.type === "mss" ? "?stage_seconds=1800" : ""
    }`;

  const clock = new TestClock(DEMO_START_MS);
  let outage = false;
  const storage = new SiteStorage(() => clock.now(), (site, adapter) => {
    const spec = sites.find((s) => s.name === site.name);
    if (!spec) return adapter;
    return new UnreliableStorage(adapter, site.name, {
      reliability: spec.reliability,
      down: () => outage && site.name === events.outage.site,
      seed: options.seed,
    });
  });
  const ownDb = !options.database;
  const db = options.database ?? await openDatabase({ dataDir: `${dir}/db` });
  await migrate(db, clock.now());
  const dynamo = await createDynamo({
    database: db,
    clock,
    partitions: parsePartitions(config["partitions.txt"]!, "partitions.txt"),
    detox: {
      policies: [{ file: "Physics.txt", text: config["detox/Physics.txt"]! }],
      intervalMs: 0,
      deletionPerIteration: 0.02,
      protectedSites: [],
      enforcer: null,
    },
    dealer: {
      config: parseDealerConfig(config["dealer.json"]!, "dealer.json"),
      enforcer: null,
      intervalMs: 0,
    },
    requestIntervalMs: 0,
    fileops: { intervalMs: 0, limits: { linkParallelism: 4, siteParallelism: 8 } },
    // The seed also decides which source each copy takes, so that --seed reproduces the transfers too.
    rng: new SeededRng(options.seed),
    scheduler: {
      file: parseSequenceFile(config["demo.seq"]!, "demo.seq"),
      tickMs: STEP_MS,
      retryDelayMs: 2 * STEP_MS,
    },
    storage,
    // Listings through clean adapters (the demo's faults are for transfers); actions through the service's.
    consistency: {
      config: DEMO_CONSISTENCY,
      tickMs: 0,
      lister: new StorageSiteLister(new SiteStorage(() => clock.now())),
    },
    ...(options.web ? { web: options.web } : {}),
  });
  const close = async () => {
    await dynamo.close();
    if (ownDb) await db.close();
  };
  try {
    await dynamo.ready;
    const scheduler = dynamo.tree.scheduler!;
    const quiet = async () => {
      for (;;) {
        await dynamo.system.runUntilIdle();
        const list = await ask<SchedulerMsg, SequenceView[]>(
          dynamo.system,
          scheduler,
          (replyTo) => ({ type: "list", replyTo }),
          { timeoutMs: HOUR_MS },
        );
        if (list.every((s) => !s.status.startsWith("running"))) {
          await dynamo.system.runUntilIdle();
          return;
        }
      }
    };
    // The scheduler's first round starts with the service, on the empty federation: let it end, so that
    // what follows never races it.
    await quiet();
    const { token } = await new SqlUserStore(db).addUser({
      name: "demo",
      authorizations: ["admin:inventory", "admin:application", "admin:registry"].map(parseAuthorization),
    }, clock.now());
    const rest = restClient(dynamo, token);

    await rest.post("/data/inventory/injectsync", {
      site: sites.map((s) => ({
        name: s.name,
        storage_type: s.type,
        backend: backendOf(s.name),
        status: "ready",
      })),
      group: [{ name: "AnalysisOps", olevel: "Dataset" }, { name: "DataOps", olevel: "Block" }],
    });
    for (const s of sites) {
      const partition = s.type === "mss" ? "Tape" : "AnalysisOps";
      await rest.post(`/data/inventory/setquota?site=${s.name}&partition=${partition}&quota=${s.quota}`, {});
    }

    const workload = new Workload({
      seed: options.seed,
      sites,
      productionPerDay: 5,
      jobsPerHour: 40,
      fileBytes: [Math.round(200_000 * scale), Math.round(800_000 * scale)],
    });
    const produced: { name: string; hour: number; origin: string }[] = [];
    // Production writes with the sites' own adapters (no demo faults: those are Dynamo's to meet).
    const productionStorage = new SiteStorage(() => clock.now());
    const adapter = (site: string) =>
      productionStorage.adapter({
        name: site,
        backend: backendOf(site),
        storageType: sites.find((s) => s.name === site)!.type,
      });
    const produce = async (hour: number, available: string[]) => {
      for (const d of workload.produce(hour, available)) {
        await writeDataset(d, rest, DEMO_START_MS + hour * HOUR_MS, adapter, options.seed);
        produced.push({ name: d.name, hour, origin: d.origin });
      }
    };
    // Three days of history before the clock starts.
    const disks = sites.filter((s) => s.type === "disk").map((s) => s.name);
    for (let h = -72; h < 0; h++) await produce(h, disks);

    const accessesToday = new Map<string, number>();
    const samples = new Map<string, number[]>(disks.map((s) => [s, []]));
    let requests = 0;
    const inventory = new SqlInventoryStore(db);
    const consistencyAt = consistencyHours(hours);
    const consistencyRuns: Record<string, unknown>[] = [];

    for (let hour = 0; hour < hours; hour++) {
      if (hour === events.morgue.hour) {
        await rest.post(`/data/inventory/setstatus?site=${events.morgue.site}&status=morgue`, {});
      }
      outage = hour >= events.outage.from && hour < events.outage.to;
      if (hour === events.crash.hour) dynamo.system.kill(events.crash.actor, "the demo's planned crash");
      const retired = hour >= events.morgue.hour ? [events.morgue.site] : [];
      await produce(hour, disks.filter((s) => !retired.includes(s) && !(outage && s === events.outage.site)));
      if (hour === consistencyAt?.faults) {
        await injectConsistencyFaults(
          dynamo.port.snapshot(),
          rootOf,
          (id) => inventory.filesOfBlock(id),
          clock.now(),
        );
      }
      if (consistencyAt?.checks.includes(hour)) {
        for (const site of DEMO_CONSISTENCY_SITES) {
          consistencyRuns.push(
            await rest.post("/data/consistency/check", { site }) as Record<string, unknown>,
          );
        }
      }

      const now = Math.floor(clock.now() / 1000);
      const day = new Date(clock.now()).toISOString().slice(0, 10);
      if (hour % 24 === 0) accessesToday.clear();
      const jobs = workload.jobs(hour, produced);
      if (jobs.size > 0) {
        await rest.post(
          "/data/demand/jobs",
          [...jobs].map(([dataset, n]) => ({ dataset, queued: now, jobs: n })),
        );
        const snap = dynamo.port.snapshot();
        const touched = new Set<string>();
        for (const [dataset, n] of jobs) {
          const site = readSite(snap, dataset, hour);
          if (!site) continue;
          const key = `${dataset}\u0000${site}`;
          accessesToday.set(key, (accessesToday.get(key) ?? 0) + n);
          touched.add(key);
        }
        if (touched.size > 0) {
          await rest.post(
            "/data/popularity/accesses",
            [...touched].map((key) => {
              const [dataset, site] = key.split("\u0000");
              return { dataset, site, date: day, accesses: accessesToday.get(key)! };
            }),
          );
        }
      }
      // Twice a day a user asks for one more copy of something popular, at any of three Tier-2s that lack it.
      if (hour % 12 === 6 && jobs.size > 0) {
        const wanted = [...jobs].sort((a, b) => b[1] - a[1])[0]![0];
        const snap = dynamo.port.snapshot();
        const d = snap.dataset(wanted);
        const holders = new Set(d ? snap.replicasOf(d.id).map((r) => snap.siteById(r.siteId)!.name) : []);
        const free = disks.filter((s) => s.startsWith("T2_") && !holders.has(s) && !retired.includes(s));
        if (free.length > 0) {
          const first = (hour / 12 + options.seed) % free.length | 0;
          const sites = [0, 1, 2].map((i) => free[(first + i) % free.length]!).filter((x, i, all) =>
            all.indexOf(x) === i
          );
          const query = new URLSearchParams([["item", wanted], ["n", "1"], ...sites.map((x) => ["site", x])]);
          await rest.post(`/data/request/copy?${query}`, {});
          requests++;
        }
      }
      // When the outage begins an operator asks for a copy of something read now at the site that just went
      // down: Dynamo does not know it is down, so the transfer is refused and retried until it comes back.
      if (hour === events.outage.from && jobs.size > 0) {
        const snap = dynamo.port.snapshot();
        const down = snap.site(events.outage.site);
        const wanted = [...jobs].sort((a, b) => b[1] - a[1]).map(([name]) => snap.dataset(name)).find((d) =>
          d !== undefined && down !== undefined && !snap.replicasOf(d.id).some((r) => r.siteId === down.id)
        );
        if (wanted) {
          const query = new URLSearchParams([["item", wanted.name], ["n", "1"], [
            "site",
            events.outage.site,
          ]]);
          await rest.post(`/data/request/copy?${query}`, {});
          requests++;
        }
      }

      for (let t = 0; t < HOUR_MS / STEP_MS; t++) {
        await clock.advance(STEP_MS);
        await quiet();
      }
      const snap = dynamo.port.snapshot();
      const partition = snap.partitions().find((p) => p.name === "AnalysisOps")!;
      for (const site of disks) {
        const u = snap.sitePartition(snap.site(site)!.id, partition)!;
        samples.get(site)!.push(u.quota > 0 ? u.physical / u.quota : 0);
      }
      if (hour % 6 === 5 || hour === hours - 1) {
        progress(
          `day ${
            (hour + 1) / 24 < 10 ? ((hour + 1) / 24).toFixed(2) : Math.round((hour + 1) / 24)
          } of ${options.days}: ` +
            `${produced.length} datasets, ${snap.counts.datasetReplicas} dataset replicas`,
        );
      }
    }

    const end: EndState = {
      snapshot: dynamo.port.snapshot(),
      rootOf,
      produced: produced.map((p) => p.name),
      filesOfBlock: (id) => inventory.filesOfBlock(id),
    };
    const invariants = await checkInvariants(end, adler32Of);
    const summary = await summarize({
      db,
      sites,
      samples,
      events,
      invariants,
      requestsMade: requests,
      restarts: dynamo.metrics.restarts,
      datasetsProduced: produced.length,
      production: produced.map((p) => ({ site: p.origin, hour: p.hour, dataset: p.name })),
      seed: options.seed,
      days: options.days,
      consistencyRuns,
    });
    return { summary, dynamo, token, close };
  } catch (e) {
    await close();
    throw e;
  }
}

async function adler32Of(path: string): Promise<string | null> {
  try {
    return adler32Hex(await Deno.readFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Where a job reads a dataset: one of its complete disk replicas, the same one for the hour. */
function readSite(snap: Snapshot, dataset: string, hour: number): string | null {
  const d = snap.dataset(dataset);
  if (!d) return null;
  const full = snap.replicasOf(d.id).filter((r) =>
    snap.siteById(r.siteId)!.storageType === "disk" &&
    r.blockReplicas.length === d.blockIds.length && r.blockReplicas.every((br) => br.fileIds === null)
  );
  if (full.length === 0) return null;
  return snap.siteById(full[hour % full.length]!.siteId)!.name;
}

/** Production: the files written at the origin (and the tape archive), then injected through the registry. */
async function writeDataset(
  d: ProducedDataset,
  rest: ReturnType<typeof restClient>,
  createdMs: number,
  adapter: (site: string) => Promise<StorageAdapter>,
  seed: number,
): Promise<void> {
  const checksums = new Map<string, string>();
  for (const site of [d.origin, ...(d.tape ? [d.tape] : [])]) {
    const store = await adapter(site);
    for (const b of d.blocks) {
      for (const f of b.files) {
        const bytes = fileBytes(seed, f);
        const adler32 = checksums.get(f.lfn) ?? adler32Hex(bytes);
        checksums.set(f.lfn, adler32);
        await store.mkdir(f.lfn.slice(0, f.lfn.lastIndexOf("/")));
        await store.write(f.lfn, ReadableStream.from([bytes]), { size: f.size, adler32 });
      }
    }
  }
  const lastUpdate = Math.floor(createdMs / 1000);
  await rest.post("/data/inventory/injectsync", {
    dataset: [{
      name: d.name,
      status: "valid",
      data_type: "production",
      last_update: lastUpdate,
      blocks: d.blocks.map((b) => ({
        name: b.name,
        files: b.files.map((f) => ({ name: f.lfn, size: f.size, adler32: checksums.get(f.lfn)! })),
      })),
    }],
    datasetreplica: [
      {
        dataset: d.name,
        site: d.origin,
        group: "AnalysisOps",
        blockreplicas: d.blocks.map((b) => ({ block: b.name })),
      },
      ...(d.tape
        ? [{
          dataset: d.name,
          site: d.tape,
          group: "DataOps",
          blockreplicas: d.blocks.map((b) => ({ block: b.name, is_custodial: true })),
        }]
        : []),
    ],
  });
}

/** The registry, called in process the way any client calls it over HTTP. */
function restClient(dynamo: Dynamo, token: string) {
  return {
    async post(path: string, body: unknown): Promise<unknown> {
      const res = await dynamo.app.fetch(
        new Request(`http://demo${path}`, {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          body: JSON.stringify(body),
        }),
      );
      const json = await res.json();
      if (!res.ok) throw new Error(`demo: POST ${path.split("?")[0]}: ${res.status} ${json.message}`);
      return json.data;
    },
  };
}
