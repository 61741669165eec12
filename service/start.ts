/**
 * Running the service as a process: logging from DYNAMO_LOG_*, the
 * configuration (file and environment), the listener actor, and a graceful
 * shutdown on SIGINT/SIGTERM or when the root supervisor gives up.
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
import { listenerActor } from "../actors/http/listener_actor.ts";
import { SystemClock } from "../actors/runtime/mod.ts";
import { readServiceConfig } from "./config/check_config.ts";
import { parseListen } from "./config/listen.ts";
import { siteCommands } from "./config/service_config.ts";
import { serviceSettingsFromEnv } from "./config/service_settings.ts";
import { createDynamo, type DynamoOptions } from "./create_dynamo.ts";
import { serveClusterNode } from "./cluster/serve_cluster_node.ts";

export async function configureLogging(): Promise<void> {
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
export async function startService(options: { listen?: string; config?: string }): Promise<number> {
  const config = options.config ? await readServiceConfig(options.config) : null;
  const env = (name: string) => config?.env[name] ?? Deno.env.get(name);
  const listenText = options.listen ?? env("DYNAMO_LISTEN") ?? "127.0.0.1:8080";
  const listen = parseListen(listenText, options.listen ? "--listen" : "DYNAMO_LISTEN");
  const settings = await serviceSettingsFromEnv(env, { nowMs: new SystemClock().now(), config });
  const log = getLogger(["dynamo", "service"]);
  const fatal = Promise.withResolvers<number>();
  const serviceOptions: DynamoOptions = { ...settings, onFatal: () => fatal.resolve(1) };
  const databaseUrl = env("DYNAMO_DATABASE_URL");
  if (databaseUrl && env("DYNAMO_CLUSTER") !== "off") {
    // Processes on one PostgreSQL form a cluster (docs/cluster.md).
    return await serveClusterNode({
      databaseUrl,
      listen,
      advertiseUrl: env("DYNAMO_ADVERTISE_URL"),
      leaseTimeout: env("DYNAMO_LEASE_TIMEOUT"),
      create: (database, role) => createDynamo({ ...serviceOptions, database, ...role }),
      onLeader: async (service) => {
        if (config && config.sites.length > 0) {
          await service.port.submit({ commands: siteCommands(config.sites), atomic: true });
        }
      },
      fatal: fatal.promise,
    });
  }
  const dynamo = await createDynamo(serviceOptions);
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
