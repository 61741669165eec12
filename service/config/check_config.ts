/** `dynamo config check FILE` and reading the configuration file for `dynamo start --config FILE`. */
import { type Clock, SystemClock } from "../../actors/runtime/clock.ts";
import { DEFAULT_FILEOPS_LIMITS } from "../../actors/transfer/fileops_engine.ts";
import { agentsConfigFromEnv } from "./agents_config.ts";
import { parseListen } from "./listen.ts";
import { inConfigTerms, parseServiceConfig, type ServiceConfig } from "./service_config.ts";

export async function readServiceConfig(file: string): Promise<ServiceConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new TypeError(`${file}: cannot read: ${(e as Error).message}`);
  }
  return parseServiceConfig(text, file);
}

/** `dynamo config check FILE`: the file, then every file it names, as the start would read them. */
export async function checkConfig(file: string, clock: Clock = new SystemClock()): Promise<string[]> {
  const config = await readServiceConfig(file);
  const env = (name: string) => config.env[name] ?? Deno.env.get(name);
  parseListen(env("DYNAMO_LISTEN") ?? "127.0.0.1:8080", "listen");
  const agents = await agentsConfigFromEnv(env, clock.now()).catch((e) => {
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
