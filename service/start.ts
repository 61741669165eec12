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
import { parseDeadlineSeconds } from "../registry/http/request_budget.ts";
import { agentsConfigFromEnv } from "./config/agents_config.ts";
import { readServiceConfig } from "./config/check_config.ts";
import { parseListen } from "./config/listen.ts";
import { inConfigTerms, siteCommands } from "./config/service_config.ts";
import { consistencyFromEnv } from "./consistency_service.ts";
import { createDynamo } from "./create_dynamo.ts";

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
