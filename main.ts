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
import { ActorSystem, type Clock, SystemClock } from "./actors/runtime/mod.ts";
import { InventoryPublication } from "./actors/inventory/publication.ts";
import { InventoryBusyError } from "./actors/inventory/inventory_gateway.ts";
import { ServiceMetrics } from "./actors/observability/service_metrics.ts";
import { type ApplicationTree, startApplicationTree } from "./actors/tree.ts";
import { type Database, openDatabase } from "./adapters/db/database.ts";
import { SqlInjectionQueue } from "./adapters/db/injection_queue.ts";
import { SqlInventoryStore } from "./adapters/db/inventory_store.ts";
import { migrate } from "./adapters/db/migrate.ts";
import { SqlUserStore } from "./adapters/db/user_store.ts";
import { runCli } from "./adapters/cli/cli.ts";
import type { CliContext } from "./adapters/cli/cli_context.ts";
import { DEFAULT_PARTITIONS, type PartitionDefinition } from "./registry/inventory/mod.ts";
import { createRegistryApp } from "./registry/http/app.ts";
import type { AppEnv } from "./registry/http/context.ts";
import { type RegistryPort, UnavailableError } from "./registry/http/port.ts";

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
  const home = options.home ?? Deno.env.get("DYNAMO_HOME") ?? "./.dynamo";
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
  const tree = startApplicationTree(system, {
    store: new SqlInventoryStore(db),
    injections,
    partitions: options.partitions ?? DEFAULT_PARTITIONS,
    publication,
    onLoadProgress: (table, rows) => log.debug("Loading {table}: {rows} rows", { table, rows }),
  });
  const metrics = new ServiceMetrics(system, publication);
  const port: RegistryPort = {
    isReady: () => publication.isReady,
    snapshot: () => publication.snapshot(),
    async submit(submission, signal) {
      try {
        return await tree.gateway.submit(submission, signal ? { signal } : {});
      } catch (e) {
        if (e instanceof InventoryBusyError) throw new UnavailableError(e.message, 2);
        throw e;
      }
    },
    async enqueueInjection(kind, payload, user) {
      const id = await injections.enqueue(kind, payload, user, clock.now());
      tree.nudgeInjections();
      return id;
    },
    injection: (id) => injections.get(id),
    authenticateToken: (token) => users.authenticateToken(token, clock.now()),
    authenticateDn: (dn) => users.authenticateDn(dn),
    metrics: () => metrics.render(),
    now: () => clock.now(),
  };
  const app = createRegistryApp(port, {
    ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.trustedDnHeader ? { trustedDnHeader: options.trustedDnHeader } : {}),
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
async function startService(options: { listen?: string }): Promise<number> {
  const listenText = options.listen ?? Deno.env.get("DYNAMO_LISTEN") ?? "127.0.0.1:8080";
  const listen = parseListen(listenText, options.listen ? "--listen" : "DYNAMO_LISTEN");
  const maxBodyText = Deno.env.get("DYNAMO_MAX_BODY_BYTES");
  const maxBodyBytes = maxBodyText === undefined ? undefined : Number(maxBodyText);
  if (maxBodyBytes !== undefined && !(Number.isInteger(maxBodyBytes) && maxBodyBytes > 0)) {
    throw new TypeError(`DYNAMO_MAX_BODY_BYTES must be a positive integer, got "${maxBodyText}"`);
  }
  const trustedDnHeader = Deno.env.get("DYNAMO_TRUSTED_DN_HEADER");
  const log = getLogger(["dynamo", "service"]);
  const fatal = Promise.withResolvers<number>();
  const dynamo = await createDynamo({
    ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
    ...(trustedDnHeader ? { trustedDnHeader } : {}),
    onFatal: () => fatal.resolve(1),
  });
  const server = Deno.serve({ ...listen, onListen: () => {} }, dynamo.app.fetch);
  log.info("Registry listening on http://{host}:{port} ({db})", {
    host: listen.hostname,
    port: listen.port,
    db: dynamo.db.description,
  });
  dynamo.ready.then(
    () =>
      log.info("Inventory ready at generation {generation}", {
        generation: dynamo.port.snapshot().generation,
      }),
    () => {},
  );
  const signal = Promise.withResolvers<number>();
  const onSignal = () => signal.resolve(0);
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const code = await Promise.race([signal.promise, fatal.promise]);
  log.info(code === 0 ? "Shutting down" : "Root supervisor gave up; shutting down");
  await server.shutdown();
  await dynamo.close();
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  return code;
}

function cliContext(): CliContext {
  const home = Deno.env.get("DYNAMO_HOME") ?? "./.dynamo";
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
    now: () => Date.now(),
  };
}

if (import.meta.main) {
  try {
    await configureLogging();
  } catch (e) {
    console.error(`dynamo: ${(e as Error).message}`);
    Deno.exit(2);
  }
  Deno.exit(await runCli(Deno.args, cliContext()));
}
