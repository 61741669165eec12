/**
 * The composition root: opens and migrates the database, builds the stores,
 * starts the supervision tree, and puts the registry app on top (docs/architecture.md:
 * wiring only; the registry's interfaces are implemented beside this file).
 */
import { getLogger } from "@logtape/logtape";
import type { Hono } from "hono";
import { resolve } from "node:path";
import { DEFAULT_HOME } from "./config/path_environment.ts";
import { ActorSystem, ask, type Clock, type Rng, SeededRng, SystemClock } from "../actors/runtime/mod.ts";
import { InventoryPublication } from "../actors/inventory/publication.ts";
import { ServiceMetrics } from "../actors/observability/service_metrics.ts";
import { type ApplicationTree, startApplicationTree, type TreeDependencies } from "../actors/tree.ts";
import type { FileOpsMsg } from "../actors/transfer/fileops_agent.ts";
import type { FileOpsPassSummary } from "../actors/transfer/fileops_engine.ts";
import { type BulkTransaction, type Database, openDatabase } from "../adapters/db/database.ts";
import { SqlInjectionQueue } from "../adapters/db/injection_queue.ts";
import { SqlInventoryStore } from "../adapters/db/inventory_store.ts";
import { fencedDatabase } from "../adapters/db/fenced_database.ts";
import { currentIdempotencyKey } from "./cluster/idempotency_context.ts";
import { migrate } from "../adapters/db/migrate.ts";
import { SqlUserStore } from "../adapters/db/user_store.ts";
import { SqlLockStore } from "../adapters/db/lock_store.ts";
import { SqlAccessStore } from "../adapters/db/access_store.ts";
import { SqlDetoxHistory } from "../adapters/db/detox_history.ts";
import { SqlRequestStore } from "../adapters/db/request_store.ts";
import { SqlAppLockStore } from "../adapters/db/app_lock_store.ts";
import { SqlDemandStore } from "../adapters/db/demand_store.ts";
import { SqlDealerHistory } from "../adapters/db/dealer_history.ts";
import { SqlFileOpsStore } from "../adapters/db/fileops_store.ts";
import { SqlSchedulerStore } from "../adapters/db/scheduler_store.ts";
import { SqlConsistencyStore } from "../adapters/db/consistency_store.ts";
import { SqlActivityMetrics } from "../adapters/db/activity_metrics.ts";
import { SiteStorage } from "../adapters/storage/site_storage.ts";
import { DEFAULT_PARTITIONS, type PartitionDefinition } from "../registry/inventory/mod.ts";
import { unhandledItems } from "../registry/requests/unhandled_items.ts";
import { createRegistryApp } from "../registry/http/app.ts";
import type { WebOptions } from "../registry/http/web/web_app.tsx";
import type { AppEnv } from "../registry/http/context.ts";
import type { InventoryAccess } from "../registry/http/inventory_access.ts";
import type { JsonRow } from "../registry/http/file_operations.ts";
import type {
  DealerSettings,
  DetoxConfig,
  FileOpsSettings,
  SchedulerSettings,
} from "./config/agents_config.ts";
import type { ConsistencySettings } from "./config/consistency_settings.ts";
import { consistencyAgentDeps, consistencyChecks, consistencyMetrics } from "./consistency_service.ts";
import { detoxRegistry } from "./detox_service.ts";
import { fileOperations } from "./fileops_service.ts";
import { inventoryAccess } from "./inventory_access_service.ts";
import { datasetStatusSource } from "./dataset_service.ts";
import { DatasetActorStats } from "../actors/dataset/dataset_actors.ts";
import { requestRegistry } from "./request_service.ts";
import { schedulerControl } from "./scheduler_service.ts";

export interface DynamoOptions {
  /** Data directory (default `$DYNAMO_HOME` or `./.dynamo`); the embedded database lives in `<home>/db`. */
  home?: string;
  /** `postgres://…`: use a PostgreSQL server instead of the embedded database. */
  databaseUrl?: string;
  /** An already opened database (tests); takes precedence over `home` and `databaseUrl`. */
  database?: Database;
  partitions?: readonly PartitionDefinition[];
  clock?: Clock;
  maxBodyBytes?: number;
  trustedDnHeader?: string;
  /** Every HTTP request's deadline (default 60 s). */
  requestDeadlineMs?: number;
  /** Time budget of a Detox or Dealer cycle (default 30 min). */
  cycleBudgetMs?: number;
  /** The web monitor's settings (refresh, staleness, sign-in lifetime). */
  web?: WebOptions;
  /** Detox policies and settings; without policies Detox only serves history and locks. */
  detox?: DetoxConfig;
  /** The Dealer; without it requests are accepted and tracked, but no copies are made. */
  dealer?: DealerSettings | null;
  /** Between request-tracker passes (default 300 s; 0 = only when a request arrives). */
  requestIntervalMs?: number;
  /** File operations (default: a pass every 30 s); null turns them off. */
  fileops?: FileOpsSettings | null;
  /** Idle time before a dataset actor is passivated (default 10 minutes). */
  datasetIdleMs?: number;
  /** The file operations' source choice draws from it; seeded, a run is reproducible (default: a random seed, logged). */
  rng?: Rng;
  /** How sites' storage is reached (default: by each site's backend URL). */
  storage?: SiteStorage;
  /** The scheduler and its sequence file; without it each agent runs on its own interval. */
  scheduler?: SchedulerSettings | null;
  /** Site consistency checks (docs/consistency.md); without it the routes only read past runs. */
  consistency?: ConsistencySettings | null;
  /** Called when the root supervisor gives up (the CLI exits non-zero). */
  onFatal?: (error: unknown) => void;
  /**
   * Decide Detox and Dealer cycles on a reader replica in a Worker (docs/parallel_readers.md); default:
   * yes when Detox or the Dealer is configured. false keeps them on the main isolate (a benchmark's contrast).
   */
  readers?: boolean;
  /** A cluster follower (docs/cluster.md): follows the journal, runs no writer, drainer or tracker. */
  follower?: TreeDependencies["follower"];
  /** Names this process's file workers (a cluster node's id: its claims are its own). */
  nodeName?: string;
  /**
   * A cluster leader's fence, run last in every inventory commit and every registry store's write
   * transaction (requests, locks, users, popularity, injections), with the write's idempotency key (docs/cluster.md).
   */
  inventoryFence?: (tx: BulkTransaction) => Promise<void>;
}

/** A running Dynamo: the actor tree over the database, and the registry app. */
export interface Dynamo {
  readonly app: Hono<AppEnv>;
  readonly port: InventoryAccess;
  readonly system: ActorSystem;
  readonly db: Database;
  readonly tree: ApplicationTree;
  readonly metrics: ServiceMetrics;
  /** Resolves when the inventory has been loaded. */
  readonly ready: Promise<void>;
  /** Stops the actors (letting the writer finish its batch) and closes the database. */
  close(): Promise<void>;
}

/**
 * Builds the service. Example:
 * ```ts
 * const dynamo = await createDynamo({ home: "/var/lib/dynamo" });
 * await dynamo.ready;
 * Deno.serve({ port: 8080 }, dynamo.app.fetch);
 * ```
 */
export async function createDynamo(options: DynamoOptions = {}): Promise<Dynamo> {
  const log = getLogger(["dynamo", "service"]);
  const home = resolve(options.home ?? Deno.env.get("DYNAMO_HOME") ?? DEFAULT_HOME);
  const url = options.databaseUrl ?? Deno.env.get("DYNAMO_DATABASE_URL");
  const db = options.database ?? await openDatabase(url ? { url } : { dataDir: `${home}/db` });
  const ownsDb = !options.database;
  try {
    const { applied } = await migrate(db, (options.clock ?? new SystemClock()).now());
    if (applied.length > 0) log.info("Database schema migrated: {applied}", { applied: applied.join(", ") });
  } catch (e) {
    if (ownsDb) await db.close();
    throw e;
  }
  const clock = options.clock ?? new SystemClock();
  const system = new ActorSystem({
    clock,
    supervision: { strategy: "one_for_one", intensity: { maxRestarts: 0, withinMs: 1 } },
    ...(options.onFatal ? { onFatal: options.onFatal } : {}),
  });
  const publication = new InventoryPublication();
  // A cluster leader's registry writes are fenced as its inventory commits are.
  const registryDb = options.inventoryFence
    ? fencedDatabase(db, { fence: options.inventoryFence, idempotencyKey: currentIdempotencyKey })
    : db;
  const injections = new SqlInjectionQueue(registryDb);
  const users = new SqlUserStore(registryDb);
  const locks = new SqlLockStore(registryDb);
  const accesses = new SqlAccessStore(registryDb);
  const history = new SqlDetoxHistory(db);
  const requests = new SqlRequestStore(registryDb);
  const appLocks = new SqlAppLockStore(registryDb);
  const demand = new SqlDemandStore(registryDb);
  const dealerHistory = new SqlDealerHistory(db);
  const fileopsStore = new SqlFileOpsStore(db);
  const schedulerStore = new SqlSchedulerStore(db);
  const consistencyStore = new SqlConsistencyStore(db);
  const storage = options.storage ?? new SiteStorage(() => clock.now());
  const fileopsSettings = options.fileops === undefined ? { intervalMs: 30_000 } : options.fileops;
  const detoxConfig = options.detox;
  const dealerSettings = options.dealer ?? null;
  const partitions = options.partitions ?? DEFAULT_PARTITIONS;
  if (dealerSettings && !partitions.some((p) => p.name === dealerSettings.config.partition)) {
    if (ownsDb) await db.close();
    throw new TypeError(`The Dealer's partition "${dealerSettings.config.partition}" is not defined`);
  }
  const datasetStats = new DatasetActorStats();
  const tree = startApplicationTree(system, {
    store: new SqlInventoryStore(db, options.inventoryFence ? { fence: options.inventoryFence } : {}),
    ...(options.follower ? { follower: options.follower } : {}),
    injections,
    partitions,
    publication,
    onLoadProgress: (table, rows) => log.debug("Loading {table}: {rows} rows", { table, rows }),
    ...(options.readers !== undefined ? { readers: options.readers } : {}),
    // A cluster follower runs no agent: they decide and write, which is the leader's (docs/cluster.md).
    ...(detoxConfig && detoxConfig.policies.length > 0 && !options.follower
      ? {
        detox: {
          history,
          locks,
          accesses,
          policies: detoxConfig.policies,
          intervalMs: detoxConfig.intervalMs,
          deletionPerIteration: detoxConfig.deletionPerIteration,
          protectedSites: detoxConfig.protectedSites,
          enforcer: detoxConfig.enforcer,
          appLocks,
          pendingCopies: async () => unhandledItems(await requests.openCopyRequests()),
          openCopyRequests: () => requests.openCopyRequests(),
          ...(detoxConfig.roomForRequests ? { roomForRequests: detoxConfig.roomForRequests } : {}),
          ...(options.cycleBudgetMs !== undefined ? { cycleBudgetMs: options.cycleBudgetMs } : {}),
        },
      }
      : {}),
    ...(dealerSettings && !options.follower
      ? {
        dealer: {
          config: dealerSettings.config,
          enforcer: dealerSettings.enforcer,
          requests,
          demand,
          history: dealerHistory,
          detoxHistory: history,
          appLocks,
          intervalMs: dealerSettings.intervalMs,
          random: (seed) => new SeededRng(seed),
          ...(options.cycleBudgetMs !== undefined ? { cycleBudgetMs: options.cycleBudgetMs } : {}),
        },
      }
      : {}),
    ...(options.follower
      ? {}
      : { tracker: { requests, locks, appLocks, intervalMs: options.requestIntervalMs ?? 300_000 } }),
    ...(fileopsSettings
      ? {
        fileops: {
          store: fileopsStore,
          storage,
          node: options.nodeName ?? `${Deno.hostname()}:${url ? "postgres" : home}`,
          ...(options.follower ? { workersOnly: true } : {}),
          intervalMs: fileopsSettings.intervalMs,
          rng: options.rng ?? unseededRng(log),
          ...(fileopsSettings.limits ? { limits: fileopsSettings.limits } : {}),
        },
      }
      : {}),
    // Dataset actors commit inventory changes: the leader's (a follower's updater is the leader's too).
    ...(options.follower ? {} : {
      datasets: {
        sources: { fileops: fileopsStore, requests },
        stats: datasetStats,
        ...(options.datasetIdleMs !== undefined ? { idleMs: options.datasetIdleMs } : {}),
      },
    }),
    ...(options.consistency && !options.follower
      ? {
        consistency: consistencyAgentDeps(options.consistency, {
          store: consistencyStore,
          fileops: fileopsStore,
          storage,
          snapshot: () => publication.snapshot(),
          submit: (s) => tree.gateway.submit(s),
          nowMs: () => clock.now(),
        }),
      }
      : {}),
    ...(options.scheduler && !options.follower
      ? {
        scheduler: {
          ...options.scheduler,
          store: schedulerStore,
          appLocks,
        },
      }
      : {}),
  });
  const metrics = new ServiceMetrics(system, publication, () => tree.replicas);
  const activity = new SqlActivityMetrics(db);
  const port = inventoryAccess({
    publication,
    tree,
    injections,
    users,
    clock,
    metrics: async () =>
      metrics.render() + datasetStats.render() + await activity.render() +
      await consistencyMetrics(consistencyStore),
  });
  const app = createRegistryApp(port, {
    ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.trustedDnHeader ? { trustedDnHeader: options.trustedDnHeader } : {}),
    ...(options.requestDeadlineMs !== undefined ? { requestDeadlineMs: options.requestDeadlineMs } : {}),
    timers: clock,
    ...(options.web ? { web: options.web } : {}),
    detox: detoxRegistry({ system, agent: () => tree.detox, history, locks, accesses, clock }),
    requests: {
      registry: requestRegistry({
        system,
        dealer: () => tree.dealer,
        requests,
        appLocks,
        demand,
        dealerHistory,
        clock,
      }),
      nudgeTracker: () => tree.nudgeTracker(),
    },
    fileops: fileOperations({
      store: fileopsStore,
      storage,
      snapshot: () => publication.snapshot(),
      run: async () => {
        if (!tree.fileops) return { error: "File operations are turned off on this server" };
        const r = await ask<FileOpsMsg, FileOpsPassSummary | { error: string }>(
          system,
          tree.fileops,
          (replyTo) => ({ type: "run", replyTo }),
          { timeoutMs: 6 * 3600_000 },
        );
        return r as JsonRow | { error: string };
      },
      nowMs: () => clock.now(),
    }),
    datasets: datasetStatusSource({ system, datasets: () => tree.datasets }),
    ...(tree.scheduler
      ? { scheduler: schedulerControl({ system, ref: tree.scheduler, store: schedulerStore }) }
      : {}),
    consistency: consistencyChecks({
      system,
      agent: tree.consistency,
      store: consistencyStore,
      snapshot: () => publication.snapshot(),
    }),
  });
  let closed = false;
  return {
    app,
    port,
    system,
    db,
    tree,
    metrics,
    ready: Promise.race([
      publication.ready,
      system.fatal.then((e) => Promise.reject(e)),
    ]),
    async close() {
      if (closed) return;
      closed = true;
      await system.shutdown();
      if (ownsDb) await db.close();
    },
  };
}

/** A generator with a seed of its own, logged so that a run's source choices can be replayed. */
function unseededRng(log: ReturnType<typeof getLogger>): Rng {
  const seed = crypto.getRandomValues(new Uint32Array(1))[0]!;
  log.info("File operations choose sources with seed {seed}", { seed });
  return new SeededRng(seed);
}
