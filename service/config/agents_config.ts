/**
 * The agents' settings (partitions, Detox, Dealer, request tracker, file
 * operations, scheduler) read from DYNAMO_* variables: the one model that the
 * environment and the configuration file (service_config.ts, which turns its
 * keys into the same variables) both feed.
 */
import { DEFAULT_PARTITIONS, type PartitionDefinition } from "../../registry/inventory/mod.ts";
import type { DetoxPolicySource, RoomForRequests } from "../../actors/agents/detox.ts";
import { detoxPolicySource, parseDetoxPolicyEntries } from "../../actors/agents/detox_policy_entries.ts";
import type { FileOpsLimits } from "../../actors/transfer/fileops_engine.ts";
import { type EnforcerRules, parseEnforcerRules } from "../../policies/enforcer_rules.ts";
import { parsePartitions } from "../../policies/partitions.ts";
import { type DealerConfig, parseDealerConfig } from "../../policies/dealer/dealer_config.ts";
import { parseSequenceFile, type SequenceFile } from "../../policies/scheduler/sequence_file.ts";

export interface SchedulerSettings {
  file: SequenceFile;
  /** How often blocked and waiting steps are looked at (default 10 s). */
  tickMs?: number;
  retryDelayMs?: number;
  defaultTimeoutMs?: number;
  /** How long the scheduler waits for an agent's answer (default 24 h). */
  askTimeoutMs?: number;
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

/** What agentsConfigFromEnv reads. */
export interface AgentsConfig {
  partitions: readonly PartitionDefinition[];
  detox: DetoxConfig;
  dealer: DealerSettings | null;
  requestIntervalMs: number;
  fileops: FileOpsSettings;
  scheduler: SchedulerSettings | null;
}

export interface DetoxConfig {
  policies: DetoxPolicySource[];
  intervalMs: number;
  deletionPerIteration: number;
  protectedSites: string[];
  enforcer: EnforcerRules | null;
  /** Room for copy requests that wait (docs/detox.md); absent: off. */
  roomForRequests?: RoomForRequests;
}

/**
 * Detox and partition settings from the environment (a JSON configuration file
 * replaces this with the service issue). Policies are parsed here so that a
 * broken file stops the start with its line and column.
 */
export async function agentsConfigFromEnv(
  env: (name: string) => string | undefined,
  nowMs: number,
): Promise<AgentsConfig> {
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
      const path = resolvePolicyPath(plugin.config.policy, {
        configFile: dealerFile,
        policiesDir: env("DYNAMO_POLICIES"),
      });
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
        leaseMs: number("DYNAMO_FILEOPS_LEASE", 600, 1, 86400) * 1000,
      },
    },
    detox: {
      policies,
      intervalMs: interval("DYNAMO_DETOX_INTERVAL", 14_400, 31 * 86400),
      deletionPerIteration: number("DYNAMO_DETOX_DELETION_PER_ITERATION", 0.01, 0.0001, 1),
      protectedSites: (env("DYNAMO_PROTECTED_SITES") ?? "").split(",").map((s) => s.trim()).filter((s) => s),
      roomForRequests: {
        maxFraction: number("DYNAMO_DETOX_ROOM_FOR_REQUESTS", 0, 0, 1),
        intervalMs: number("DYNAMO_DETOX_ROOM_INTERVAL", 3600, 60, 31 * 86400) * 1000,
      },
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
export function resolvePolicyPath(
  path: string,
  { configFile, policiesDir }: { configFile: string; policiesDir: string | undefined },
): string {
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
