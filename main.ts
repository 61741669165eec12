/**
 * The composition root and CLI entry: configuration → adapters → supervision
 * tree → HTTP. The only module that imports every layer (DESIGN.md §4).
 */
import {
  configure,
  getJsonLinesFormatter,
  getLogfmtFormatter,
  getLogger,
  getStreamSink,
  type LogLevel,
  parseLogLevel,
} from "@logtape/logtape";
import type { Hono } from "hono";
import { resolve } from "node:path";
import {
  DEFAULT_HOME,
  processEnvironment,
  resolvePathEnvironment,
} from "./service/config/path_environment.ts";
import { type ActorRef, ActorSystem, type Clock, SystemClock } from "./actors/runtime/mod.ts";
import { InventoryPublication } from "./actors/inventory/publication.ts";
import { InventoryBusyError } from "./actors/inventory/inventory_gateway.ts";
import { ServiceMetrics } from "./actors/observability/service_metrics.ts";
import { type ApplicationTree, startApplicationTree } from "./actors/tree.ts";
import { listenerActor } from "./actors/http/listener_actor.ts";
import { type Database, openDatabase } from "./adapters/db/database.ts";
import { SqlInjectionQueue } from "./adapters/db/injection_queue.ts";
import { SqlInventoryStore } from "./adapters/db/inventory_store.ts";
import { migrate } from "./adapters/db/migrate.ts";
import { SqlUserStore } from "./adapters/db/user_store.ts";
import { runCli } from "./adapters/cli/cli.ts";
import type { CliContext } from "./adapters/cli/cli_context.ts";
import { DEFAULT_PARTITIONS, type PartitionDefinition } from "./registry/inventory/mod.ts";
import { createRegistryApp } from "./registry/http/app.ts";
import { parseDeadlineSeconds } from "./registry/http/request_budget.ts";
import type { WebOptions } from "./registry/http/web/web_app.tsx";
import type { AppEnv } from "./registry/http/context.ts";
import { type RegistryPort, UnavailableError } from "./registry/http/port.ts";
import type { DetoxPort } from "./registry/http/detox_port.ts";
import { SqlLockStore } from "./adapters/db/lock_store.ts";
import { SqlAccessStore } from "./adapters/db/access_store.ts";
import { SqlDetoxHistory } from "./adapters/db/detox_history.ts";
import type { DetoxMsg, DetoxPolicySource } from "./actors/agents/detox.ts";
import type { DetoxRunSummary } from "./registry/requests/detox_run.ts";
import { detoxPolicySource, parseDetoxPolicyEntries } from "./actors/agents/detox_policy_entries.ts";
import { type EnforcerRules, parseEnforcerRules } from "./policies/enforcer_rules.ts";
import { parsePartitions } from "./policies/partitions.ts";
import { describePolicyFile } from "./policies/describe_policy_file.ts";
import { inConfigTerms, parseServiceConfig, type ServiceConfig, siteCommands } from "./service_config.ts";
import { ask, AskTimeoutError, SeededRng } from "./actors/runtime/mod.ts";
import { SqlRequestStore } from "./adapters/db/request_store.ts";
import { SqlAppLockStore } from "./adapters/db/app_lock_store.ts";
import { SqlDemandStore } from "./adapters/db/demand_store.ts";
import { SqlDealerHistory } from "./adapters/db/dealer_history.ts";
import type { DealerMsg } from "./actors/agents/dealer.ts";
import type { DealerPort } from "./registry/http/dealer_port.ts";
import type { DealerRunSummary } from "./registry/requests/dealer_run.ts";
import type { CopyRequest } from "./registry/requests/copy_request.ts";
import { type DealerConfig, parseDealerConfig } from "./policies/dealer/dealer_config.ts";
import { SqlFileOpsStore } from "./adapters/db/fileops_store.ts";
import { SqlConsistencyStore } from "./adapters/db/consistency_store.ts";
import {
  consistencyAgentDeps,
  consistencyFromEnv,
  consistencyMetrics,
  consistencyPort,
  type ConsistencySettings,
} from "./service/consistency_service.ts";
import { SiteStorage } from "./adapters/storage/site_storage.ts";
import type { FileOpsMsg } from "./actors/transfer/fileops_agent.ts";
import {
  DEFAULT_FILEOPS_LIMITS,
  type FileOpsLimits,
  type FileOpsPassSummary,
} from "./actors/transfer/fileops_engine.ts";
import type { JsonRow } from "./registry/http/fileops_port.ts";
import type { FileOpsStore, Subscription } from "./adapters/db/fileops_port.ts";
import { mappingProtocol } from "./adapters/storage/storage_port.ts";
import { type FileOpsPort, LfnError } from "./registry/http/fileops_port.ts";
import { LfnMappingError, mapLfn, type Snapshot } from "./registry/inventory/mod.ts";
import { parseSequenceFile, type SequenceFile } from "./policies/scheduler/sequence_file.ts";
import { SqlSchedulerStore } from "./adapters/db/scheduler_store.ts";
import { SqlActivityMetrics } from "./adapters/db/activity_metrics.ts";
import type { SchedulerMsg, SchedulerReply, SequenceView } from "./actors/agents/scheduler.ts";
import type { SchedulerPort } from "./registry/http/scheduler_port.ts";

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
  /** How sites' storage is reached (default: by each site's backend URL). */
  storage?: SiteStorage;
  /** The scheduler and its sequence file; without it each agent runs on its own interval. */
  scheduler?: SchedulerSettings | null;
  /** Site consistency checks (docs/consistency.md); without it the routes only read past runs. */
  consistency?: ConsistencySettings | null;
  /** Called when the root supervisor gives up (the CLI exits non-zero). */
  onFatal?: (error: unknown) => void;
}

/** A running Dynamo: the actor tree over the database, and the registry app. */
export interface Dynamo {
  readonly app: Hono<AppEnv>;
  readonly port: RegistryPort;
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
  const injections = new SqlInjectionQueue(db);
  const users = new SqlUserStore(db);
  const locks = new SqlLockStore(db);
  const accesses = new SqlAccessStore(db);
  const history = new SqlDetoxHistory(db);
  const requests = new SqlRequestStore(db);
  const appLocks = new SqlAppLockStore(db);
  const demand = new SqlDemandStore(db);
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
  const tree = startApplicationTree(system, {
    store: new SqlInventoryStore(db),
    injections,
    partitions,
    publication,
    onLoadProgress: (table, rows) => log.debug("Loading {table}: {rows} rows", { table, rows }),
    ...(detoxConfig && detoxConfig.policies.length > 0
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
          ...(options.cycleBudgetMs !== undefined ? { cycleBudgetMs: options.cycleBudgetMs } : {}),
        },
      }
      : {}),
    ...(dealerSettings
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
    tracker: { requests, locks, appLocks, intervalMs: options.requestIntervalMs ?? 300_000 },
    ...(fileopsSettings
      ? {
        fileops: {
          store: fileopsStore,
          storage,
          node: `${Deno.hostname()}:${url ? "postgres" : home}`,
          intervalMs: fileopsSettings.intervalMs,
          random: Math.random,
          ...(fileopsSettings.limits ? { limits: fileopsSettings.limits } : {}),
        },
      }
      : {}),
    ...(options.consistency
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
    ...(options.scheduler
      ? {
        scheduler: {
          ...options.scheduler,
          store: schedulerStore,
          appLocks,
        },
      }
      : {}),
  });
  const metrics = new ServiceMetrics(system, publication);
  const activity = new SqlActivityMetrics(db);
  const port: RegistryPort = {
    isReady: () => publication.isReady,
    snapshot: () => publication.snapshot(),
    async submit(submission, signal) {
      try {
        return await tree.gateway.submit(submission, signal ? { signal } : {});
      } catch (e) {
        if (e instanceof InventoryBusyError) throw new UnavailableError(e.message, 2);
        if (e instanceof AskTimeoutError) {
          throw new UnavailableError("The inventory writer did not answer in time");
        }
        throw e;
      }
    },
    async enqueueInjection(kind, payload, user) {
      const id = await injections.enqueue(kind, payload, user, clock.now()).catch((e) => {
        log.error("Could not queue an injection: {error}", { error: String(e) }); // the client gets no database text
        throw new UnavailableError("The injection could not be queued; retry later");
      });
      tree.nudgeInjections();
      return id;
    },
    injection: (id) => injections.get(id),
    injections: (filter) => injections.list(filter),
    authenticateToken: (token) => users.authenticateToken(token, clock.now()),
    authenticateDn: (dn) => users.authenticateDn(dn),
    metrics: async () =>
      metrics.render() + await activity.render() + await consistencyMetrics(consistencyStore),
    now: () => clock.now(),
  };
  const detoxPort: DetoxPort = {
    configured: () => tree.detox !== null,
    async run(request) {
      if (!tree.detox) return { error: "No Detox policy is configured" };
      return await ask<DetoxMsg, DetoxRunSummary[] | { error: string }>(
        system,
        tree.detox,
        (replyTo) => ({ type: "run", request, replyTo }),
        {
          timeoutMs: 30 * 60_000,
        },
      );
    },
    cycles: (f) => history.cycles(f),
    cycle: (id) => history.cycle(id),
    sites: (id) => history.sites(id),
    decisions: (id, f) => history.decisions(id, f),
    listLocks: (f) => locks.listLocks(f),
    lock: (user, request) => locks.lock(user, request, clock.now()),
    unlock: (user, ids) => locks.unlock(user, ids, clock.now()),
    setLocks: (user, requests) => locks.setLocks(user, requests, clock.now()),
    recordAccesses: (records) => accesses.recordAccesses(records),
  };
  const dealerPort: DealerPort = {
    submitCopy: (user, s) => requests.submitCopy(user, s, clock.now()),
    submitDeletion: (user, s) => requests.submitDeletion(user, s, clock.now()),
    copyRequests: (q) => requests.copyRequests(q),
    deletionRequests: (q) => requests.deletionRequests(q),
    cancelCopy: (id, user) => requests.cancelCopy(id, user, clock.now()),
    lockApp: (lock) => appLocks.lockApp({ ...lock, since: Math.floor(clock.now() / 1000) }),
    unlockApp: (app, user) => appLocks.unlockApp(app, user),
    appLocks: () => appLocks.appLocks(),
    recordJobs: (records) => demand.recordJobs(records),
    dealerConfigured: () => tree.dealer !== null,
    async runDealer(mode, comment) {
      return await ask<DealerMsg, DealerRunSummary>(
        system,
        tree.dealer!,
        (replyTo) => ({ type: "run", mode, ...(comment ? { comment } : {}), replyTo }),
        { timeoutMs: 30 * 60_000 },
      );
    },
    dealerCycles: (limit) => dealerHistory.cycles({ limit }),
    dealerDecisions: (f) => dealerHistory.decisions(f),
  };
  const app = createRegistryApp(
    port,
    {
      ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
      ...(options.trustedDnHeader ? { trustedDnHeader: options.trustedDnHeader } : {}),
      ...(options.requestDeadlineMs !== undefined ? { requestDeadlineMs: options.requestDeadlineMs } : {}),
      timers: clock,
      ...(options.web ? { web: options.web } : {}),
    },
    detoxPort,
    { port: dealerPort, nudgeTracker: () => tree.nudgeTracker() },
    fileopsPort(fileopsStore, storage, () => publication.snapshot(), async () => {
      if (!tree.fileops) return { error: "File operations are turned off on this server" };
      const r = await ask<FileOpsMsg, FileOpsPassSummary | { error: string }>(
        system,
        tree.fileops,
        (replyTo) => ({ type: "run", replyTo }),
        { timeoutMs: 6 * 3600_000 },
      );
      return r as JsonRow | { error: string };
    }, () => clock.now()),
    tree.scheduler ? schedulerPort(system, tree.scheduler, schedulerStore) : undefined,
    consistencyPort(system, tree.consistency, consistencyStore, () => publication.snapshot()),
  );
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

export interface SchedulerSettings {
  file: SequenceFile;
  /** How often blocked and waiting steps are looked at (default 10 s). */
  tickMs?: number;
  retryDelayMs?: number;
  defaultTimeoutMs?: number;
  /** How long the scheduler waits for an agent's answer (default 24 h). */
  askTimeoutMs?: number;
}

/** The registry's view of the scheduler: asks to its actor, runs from its store. */
function schedulerPort(
  system: ActorSystem,
  ref: ActorRef<SchedulerMsg>,
  store: SqlSchedulerStore,
): SchedulerPort {
  const call = <T>(make: (replyTo: ActorRef<SchedulerReply<T>>) => SchedulerMsg) =>
    ask<SchedulerMsg, SchedulerReply<T>>(system, ref, make, { timeoutMs: 30_000 });
  const sequenceJson = (v: SequenceView): JsonRow => ({
    name: v.name,
    enabled: v.enabled,
    restart: v.restart,
    position: v.position,
    steps: v.steps,
    line: v.line,
    status: v.status,
    not_before: v.notBefore === null ? null : seconds(v.notBefore),
  });
  const viewReply = (r: SchedulerReply<SequenceView>) => ("error" in r ? r : sequenceJson(r));
  return {
    sequences: async () =>
      (await ask<SchedulerMsg, SequenceView[]>(system, ref, (replyTo) => ({ type: "list", replyTo }), {
        timeoutMs: 30_000,
      })).map(sequenceJson),
    startSequence: async (name) => viewReply(await call((replyTo) => ({ type: "start", name, replyTo }))),
    stopSequence: async (name) => viewReply(await call((replyTo) => ({ type: "stop", name, replyTo }))),
    applications: async (limit) =>
      (await store.runs(limit)).map((r) => ({
        id: r.id,
        title: r.title,
        args: r.args.join(" "),
        write: r.write,
        sequence: r.sequence,
        user: r.user,
        status: r.status,
        message: r.message,
        created: seconds(r.createdMs),
        started: r.startedMs === null ? null : seconds(r.startedMs),
        finished: r.finishedMs === null ? null : seconds(r.finishedMs),
      })),
    runApplication: (title, args, user) =>
      call<{ id: number }>((replyTo) => ({ type: "submit", title, args, user, replyTo })),
    killApplication: (id) => call<{ killed: boolean }>((replyTo) => ({ type: "kill", id, replyTo })),
  };
}

export interface FileOpsSettings {
  /** Between passes; 0 = only on request. */
  intervalMs: number;
  limits?: Partial<FileOpsLimits>;
}

export interface DealerSettings {
  config: DealerConfig;
  /** Rules of the enforcer plugin, read from its `policy` file. */
  enforcer: EnforcerRules | null;
  intervalMs: number;
}

/** Items that copy requests still wait for (Detox's `dataset.unhandled_copy_exists`). */
function unhandledItems(open: readonly CopyRequest[]): string[] {
  return open.flatMap((r) =>
    r.status === "new" ? [...r.items] : r.actions.filter((a) => a.status === "new").map((a) => a.item)
  );
}

export interface DetoxConfig {
  policies: DetoxPolicySource[];
  intervalMs: number;
  deletionPerIteration: number;
  protectedSites: string[];
  enforcer: EnforcerRules | null;
}

/**
 * Detox and partition settings from the environment (a JSON configuration file
 * replaces this with the service issue). Policies are parsed here so that a
 * broken file stops the start with its line and column.
 */
export async function agentsConfigFromEnv(env: (name: string) => string | undefined, nowMs: number): Promise<{
  partitions: readonly PartitionDefinition[];
  detox: DetoxConfig;
  dealer: DealerSettings | null;
  requestIntervalMs: number;
  fileops: FileOpsSettings;
  scheduler: SchedulerSettings | null;
}> {
  const read = async (variable: string, path: string) => {
    try {
      return await Deno.readTextFile(path);
    } catch (e) {
      throw new TypeError(`${variable}: cannot read ${path}: ${(e as Error).message}`);
    }
  };
  const partitionsFile = env("DYNAMO_PARTITIONS");
  const partitions = partitionsFile
    ? parsePartitions(await read("DYNAMO_PARTITIONS", partitionsFile), partitionsFile)
    : DEFAULT_PARTITIONS;
  const policies: DetoxPolicySource[] = [];
  for (const entry of parseDetoxPolicyEntries(env("DYNAMO_DETOX_POLICIES") ?? "", "DYNAMO_DETOX_POLICIES")) {
    const text = await read("DYNAMO_DETOX_POLICIES", entry.file);
    policies.push(detoxPolicySource(entry, text, partitions, nowMs, "DYNAMO_DETOX_POLICIES"));
  }
  const number = (variable: string, fallback: number, min: number, max: number) => {
    const text = env(variable);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new TypeError(`${variable} must be a number from ${min} to ${max}, got "${text}"`);
    }
    return n;
  };
  const sequencesFile = env("DYNAMO_SEQUENCES");
  const scheduler: SchedulerSettings | null = sequencesFile
    ? {
      file: parseSequenceFile(await read("DYNAMO_SEQUENCES", sequencesFile), sequencesFile),
      tickMs: number("DYNAMO_SCHEDULER_TICK", 10, 1, 3600) * 1000,
    }
    : null;
  // With a sequence file the scheduler drives the agents: their own timers default to off.
  const interval = (variable: string, fallback: number, max: number) =>
    number(variable, scheduler ? 0 : fallback, 0, max) * 1000;
  const enforcerFile = env("DYNAMO_ENFORCER_RULES");
  const dealerFile = env("DYNAMO_DEALER_CONFIG");
  let dealer: DealerSettings | null = null;
  if (dealerFile) {
    const config = parseDealerConfig(await read("DYNAMO_DEALER_CONFIG", dealerFile), dealerFile);
    if (!partitions.some((p) => p.name === config.partition)) {
      throw new TypeError(`DYNAMO_DEALER_CONFIG: partition "${config.partition}" is not defined`);
    }
    let enforcer: EnforcerRules | null = null;
    for (const plugin of config.plugins) {
      if (plugin.module !== "EnforcerHandler") continue;
      const path = resolvePolicyPath(plugin.config.policy, dealerFile, env("DYNAMO_POLICIES"));
      enforcer = parseEnforcerRules(await read("DYNAMO_DEALER_CONFIG", path), path, nowMs);
    }
    dealer = { config, enforcer, intervalMs: interval("DYNAMO_DEALER_INTERVAL", 3600, 31 * 86400) };
  }
  return {
    partitions,
    dealer,
    scheduler,
    requestIntervalMs: interval("DYNAMO_REQUEST_INTERVAL", 300, 86400),
    fileops: {
      intervalMs: interval("DYNAMO_FILEOPS_INTERVAL", 30, 86400),
      limits: {
        linkParallelism: number("DYNAMO_LINK_PARALLELISM", 4, 1, 1000),
        siteParallelism: number("DYNAMO_SITE_PARALLELISM", 8, 1, 10000),
      },
    },
    detox: {
      policies,
      intervalMs: interval("DYNAMO_DETOX_INTERVAL", 14_400, 31 * 86400),
      deletionPerIteration: number("DYNAMO_DETOX_DELETION_PER_ITERATION", 0.01, 0.0001, 1),
      protectedSites: (env("DYNAMO_PROTECTED_SITES") ?? "").split(",").map((s) => s.trim()).filter((s) => s),
      enforcer: enforcerFile
        ? parseEnforcerRules(await read("DYNAMO_ENFORCER_RULES", enforcerFile), enforcerFile, nowMs)
        : null,
    },
  };
}

/**
 * A path in a Dealer configuration: `$(DYNAMO_POLICIES)` is the policies
 * directory (as in the CMS files); relative paths are relative to the file.
 */
export function resolvePolicyPath(path: string, configFile: string, policiesDir: string | undefined): string {
  if (path.includes("$(DYNAMO_POLICIES)")) {
    if (!policiesDir) {
      throw new TypeError(`DYNAMO_DEALER_CONFIG: ${path} needs DYNAMO_POLICIES (the policies directory)`);
    }
    return path.replaceAll("$(DYNAMO_POLICIES)", policiesDir);
  }
  if (path.startsWith("/")) return path;
  const dir = configFile.includes("/") ? configFile.slice(0, configFile.lastIndexOf("/")) : ".";
  return `${dir}/${path}`;
}

/** `HOST:PORT` → listen options; errors name the variable or flag. */
export function parseListen(text: string, source: string): { hostname: string; port: number } {
  const m = text.match(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new TypeError(`${source} must be HOST:PORT, got "${text}"`);
  return { hostname: m[1]!.replace(/^\[|\]$/g, ""), port };
}

async function configureLogging(): Promise<void> {
  const levelText = Deno.env.get("DYNAMO_LOG_LEVEL") ?? "info";
  let level: LogLevel;
  try {
    level = parseLogLevel(levelText);
  } catch {
    throw new TypeError(
      `DYNAMO_LOG_LEVEL must be one of trace, debug, info, warning, error, fatal, got "${levelText}"`,
    );
  }
  const json = Deno.env.get("DYNAMO_LOG_FORMAT") === "json";
  await configure({
    sinks: {
      stderr: getStreamSink(Deno.stderr.writable, {
        formatter: json ? getJsonLinesFormatter() : getLogfmtFormatter(),
      }),
    },
    loggers: [
      { category: ["dynamo"], lowestLevel: level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

/** `dynamo start`: serve until SIGINT/SIGTERM, then shut down gracefully (exit 0). */
async function startService(options: { listen?: string; config?: string }): Promise<number> {
  const config = options.config ? await readServiceConfig(options.config) : null;
  const env = (name: string) => config?.env[name] ?? Deno.env.get(name);
  const listenText = options.listen ?? env("DYNAMO_LISTEN") ?? "127.0.0.1:8080";
  const listen = parseListen(listenText, options.listen ? "--listen" : "DYNAMO_LISTEN");
  const maxBodyText = env("DYNAMO_MAX_BODY_BYTES");
  const maxBodyBytes = maxBodyText === undefined ? undefined : Number(maxBodyText);
  if (maxBodyBytes !== undefined && !(Number.isInteger(maxBodyBytes) && maxBodyBytes > 0)) {
    throw new TypeError(`DYNAMO_MAX_BODY_BYTES must be a positive integer, got "${maxBodyText}"`);
  }
  const trustedDnHeader = env("DYNAMO_TRUSTED_DN_HEADER");
  const requestDeadlineMs = parseDeadlineSeconds(env("DYNAMO_REQUEST_DEADLINE"), "DYNAMO_REQUEST_DEADLINE");
  const cycleBudgetMs = parseDeadlineSeconds(env("DYNAMO_CYCLE_BUDGET"), "DYNAMO_CYCLE_BUDGET");
  const log = getLogger(["dynamo", "service"]);
  const fatal = Promise.withResolvers<number>();
  const { partitions, detox, dealer, requestIntervalMs, fileops, scheduler } = await agentsConfigFromEnv(
    env,
    Date.now(),
  )
    .catch((e) => {
      throw config && e instanceof TypeError ? new TypeError(inConfigTerms(e.message, config)) : e;
    });
  const home = env("DYNAMO_HOME");
  const databaseUrl = env("DYNAMO_DATABASE_URL");
  const dynamo = await createDynamo({
    ...(home ? { home } : {}),
    ...(databaseUrl ? { databaseUrl } : {}),
    partitions,
    detox,
    dealer,
    requestIntervalMs,
    fileops,
    scheduler,
    consistency: await consistencyFromEnv(env),
    ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
    ...(trustedDnHeader ? { trustedDnHeader } : {}),
    ...(requestDeadlineMs !== undefined ? { requestDeadlineMs } : {}),
    ...(cycleBudgetMs !== undefined ? { cycleBudgetMs } : {}),
    onFatal: () => fatal.resolve(1),
  });
  // Spawned after /dynamo, so stopped before it: requests stop first, the writer last.
  dynamo.system.spawn<never>({
    id: "http",
    restart: "permanent",
    shutdownMs: 30_000,
    behavior: () =>
      listenerActor({
        listen: () => {
          const server = Deno.serve({ ...listen, onListen: () => {} }, dynamo.app.fetch);
          log.info("Registry listening on http://{host}:{port} ({db})", {
            host: listen.hostname,
            port: listen.port,
            db: dynamo.db.description,
          });
          return server;
        },
      }),
  });
  dynamo.ready.then(
    async () => {
      if (config && config.sites.length > 0) {
        const reply = await dynamo.tree.gateway.submit({
          commands: siteCommands(config.sites),
          atomic: true,
        });
        if (!reply.ok) {
          log.error("The configured sites could not be written: {error}", { error: reply.error });
          fatal.resolve(1);
          return;
        }
        log.info("{n} configured sites written to the inventory", { n: config.sites.length });
      }
      log.info("Inventory ready at generation {generation}", {
        generation: dynamo.port.snapshot().generation,
      });
    },
    () => {},
  );
  const signal = Promise.withResolvers<number>();
  const onSignal = () => signal.resolve(0);
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const code = await Promise.race([signal.promise, fatal.promise]);
  log.info(code === 0 ? "Shutting down" : "Root supervisor gave up; shutting down");
  await dynamo.close();
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  return code;
}

function cliContext(): CliContext {
  const home = resolve(Deno.env.get("DYNAMO_HOME") ?? DEFAULT_HOME);
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    env: (name) => Deno.env.get(name),
    readStdin: () => new Response(Deno.stdin.readable).text(),
    readTextFile: (path) => Deno.readTextFile(path),
    async openUsers() {
      const url = Deno.env.get("DYNAMO_DATABASE_URL");
      const db = await openDatabase(url ? { url, maxConnections: 1 } : { dataDir: `${home}/db` });
      await migrate(db, Date.now());
      return { users: new SqlUserStore(db), close: () => db.close() };
    },
    startService,
    checkConfig,
    now: () => Date.now(),
    progressOutput: () => ({
      isTerminal: Deno.stderr.isTerminal(),
      write: (text) => Deno.stderr.writeSync(new TextEncoder().encode(text)),
    }),
    onInterrupt(handler) {
      Deno.addSignalListener("SIGINT", handler);
      return () => Deno.removeSignalListener("SIGINT", handler);
    },
    describePolicyFile: (text, file) => describePolicyFile(text, file, Date.now()),
  };
}

if (import.meta.main) {
  try {
    resolvePathEnvironment(processEnvironment, Deno.cwd());
    await configureLogging();
  } catch (e) {
    console.error(`dynamo: ${(e as Error).message}`);
    Deno.exit(2);
  }
  Deno.exit(await runCli(Deno.args, cliContext()));
}

/** The registry's view of file operations: store rows in their JSON shape, and LFN → PFN. */
function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

function subscriptionJson(s: Subscription): JsonRow {
  return {
    id: s.id,
    kind: s.kind,
    lfn: s.lfn,
    dataset: s.dataset,
    block: s.block,
    size: s.size,
    source: s.source,
    site: s.site,
    status: s.status,
    task_state: s.taskState,
    hold_reason: s.holdReason,
    attempts: s.attempts,
  };
}

export function fileopsPort(
  store: FileOpsStore,
  storage: SiteStorage,
  snapshot: () => Snapshot,
  run: () => Promise<JsonRow | { error: string }>,
  nowMs: () => number,
): FileOpsPort {
  return {
    current: async (limit) => (await store.current(limit)).map(subscriptionJson),
    transferHistory: async (limit, since) =>
      (await store.transferHistory(limit, since * 1000)).map((r) => ({
        id: r.id,
        lfn: r.lfn,
        source: r.source,
        destination: r.destination,
        size: r.size,
        exit_code: r.exitCode,
        error: r.code,
        message: r.message,
        started: seconds(r.startedMs),
        finished: seconds(r.finishedMs),
      })),
    deletionHistory: async (limit, since) =>
      (await store.deletionHistory(limit, since * 1000)).map((r) => ({
        id: r.id,
        lfn: r.lfn,
        site: r.site,
        size: r.size,
        exit_code: r.exitCode,
        error: r.code,
        message: r.message,
        started: seconds(r.startedMs),
        finished: seconds(r.finishedMs),
      })),
    heldSummary: async () => await store.heldSummary(),
    heldDetail: async (limit) =>
      (await store.held(limit)).map((s) => ({ ...subscriptionJson(s), last_error: s.lastError })),
    files: async (f) =>
      (await store.filesOf(f)).map((s) => ({ ...subscriptionJson(s), last_error: s.lastError })),
    release: (ids) => store.release(ids, nowMs()),
    run,
    async lfn2pfn(siteName, lfn, protocol) {
      const site = snapshot().site(siteName);
      if (!site) throw new LfnError("site", `unknown site ${JSON.stringify(siteName)}`);
      let adapter;
      try {
        adapter = await storage.adapter({
          name: site.name,
          backend: site.backend,
          storageType: site.storageType,
        });
      } catch (e) {
        throw new LfnError("site", e instanceof Error ? e.message : String(e));
      }
      try {
        const chains = protocol !== undefined && site.filenameMappings[protocol]?.length;
        return adapter.url(mapLfn(site, lfn, chains ? protocol : mappingProtocol(adapter)));
      } catch (e) {
        if (e instanceof LfnMappingError) throw new LfnError("lfn", e.message);
        throw e;
      }
    },
  };
}

async function readServiceConfig(file: string): Promise<ServiceConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new TypeError(`${file}: cannot read: ${(e as Error).message}`);
  }
  return parseServiceConfig(text, file);
}

/** `dynamo config check FILE`: the file, then every file it names, as the start would read them. */
async function checkConfig(file: string): Promise<string[]> {
  const config = await readServiceConfig(file);
  const env = (name: string) => config.env[name] ?? Deno.env.get(name);
  parseListen(env("DYNAMO_LISTEN") ?? "127.0.0.1:8080", "listen");
  const agents = await agentsConfigFromEnv(env, Date.now()).catch((e) => {
    throw e instanceof TypeError ? new TypeError(inConfigTerms(e.message, config)) : e;
  });
  const database = env("DYNAMO_DATABASE_URL")
    ? "PostgreSQL"
    : `PGlite in ${env("DYNAMO_HOME") ?? "./.dynamo"}/db`;
  return [
    `${file}: OK`,
    `  listen ${env("DYNAMO_LISTEN") ?? "127.0.0.1:8080"}; database ${database}`,
    `  partitions: ${agents.partitions.map((p) => p.name).join(", ")}`,
    `  detox: ${agents.detox.policies.length} polic${
      agents.detox.policies.length === 1 ? "y" : "ies"
    }, every ${agents.detox.intervalMs / 1000} s`,
    `  dealer: ${
      agents.dealer
        ? `partition ${agents.dealer.config.partition}, every ${agents.dealer.intervalMs / 1000} s`
        : "off"
    }`,
    `  file operations: every ${agents.fileops.intervalMs / 1000} s, ${
      agents.fileops.limits?.linkParallelism ?? DEFAULT_FILEOPS_LIMITS.linkParallelism
    } per link, ${agents.fileops.limits?.siteParallelism ?? DEFAULT_FILEOPS_LIMITS.siteParallelism} per site`,
    `  scheduler: ${
      agents.scheduler
        ? `${
          agents.scheduler.file.sequences.map((s) => s.name).join(", ") || "no"
        } sequence(s), ${agents.scheduler.file.apps.size} application(s)`
        : "off (each agent on its own interval)"
    }`,
    `  sites: ${config.sites.map((s) => `${s.name} (${s.storageType}, ${s.status})`).join(", ") || "none"}`,
  ];
}
