/**
 * The Dealer configuration (spec §4.1), in the format of CMS's
 * `dealer_config.json`: either the whole file (`{"dealer": {…}, …}`) or the
 * `dealer` object itself. Sizes are in TB, as in the original. Keys the
 * original used for its own plumbing (`db_params`, `store`, `detox_history`,
 * `copy_op`) are accepted and ignored; anything else unknown is an error.
 */
import { PolicySyntaxError } from "../language/errors.ts";
import { isJsonObject, jsonReader, lineOfKey, parseJsonSource } from "../language/json_source.ts";

export const TB = 1e12;

export type PluginModule =
  | "CopyRequestsHandler"
  | "EnforcerHandler"
  | "PopularityHandler"
  | "BalancingHandler"
  | "Undertaker"
  | "GroupReassigner";

const MODULES: readonly PluginModule[] = [
  "CopyRequestsHandler",
  "EnforcerHandler",
  "PopularityHandler",
  "BalancingHandler",
  "Undertaker",
  "GroupReassigner",
];

export interface RequestsConfig {
  /** Largest item a request may ask for, bytes. */
  maxSize: number;
  /** Block lists above this fraction of the dataset become whole-dataset requests. */
  blockRequestMax: number;
  /** Groups whose replicas a request may take over. */
  overwrittenGroups: string[];
  /** Cycles an action may stay unplaced before it fails (optional; ∞ when absent). */
  maxAttempts: number;
  /** Seconds a request that cannot be placed now waits before it is rejected (`request_wait`, days). */
  requestWait: number;
}

export interface EnforcerConfig {
  maxDatasetSize: number;
  /** Path of the rules file (`$(DYNAMO_POLICIES)` replaced by the caller). */
  policy: string;
}

export interface PopularityConfig {
  sourceGroups: string[];
  maxDatasetSize: number;
  maxReplication: number;
  requestToReplicaThreshold: number;
}

export interface BalancerConfig {
  maxDatasetSize: number;
  maxCycleVolume: number;
  /** Protection reason (policy line text) → copies required. */
  targetReasons: Map<string, number>;
}

export interface UndertakerConfig {
  additionalSites: string[];
}

export interface GroupReassignerConfig {
  fromGroups: string[];
}

export type PluginConfig =
  | { module: "CopyRequestsHandler"; config: RequestsConfig }
  | { module: "EnforcerHandler"; config: EnforcerConfig }
  | { module: "PopularityHandler"; config: PopularityConfig }
  | { module: "BalancingHandler"; config: BalancerConfig }
  | { module: "Undertaker"; config: UndertakerConfig }
  | { module: "GroupReassigner"; config: GroupReassignerConfig };

export type PluginEntry = PluginConfig & { name: string; priority: number };

export interface DealerConfig {
  partition: string;
  defaultGroup: string;
  /** fnmatch patterns, `!pattern` excludes; the last match wins. */
  targetSites: string[];
  targetSiteOccupancy: number;
  maxSitePendingFraction: number;
  /** Bytes. */
  maxTotalCycleVolume: number;
  plugins: PluginEntry[];
  /** Half-life of job demand (GlobalQueueRequestHistory), days. */
  demandHalfLifeDays: number;
}

const IGNORED_KEYS = ["db_params", "store", "detox_history", "copy_op"];

export function parseDealerConfig(text: string, file = "<dealer config>"): DealerConfig {
  const doc = parseJsonSource(text, file);
  const fail = (path: string, reason: string): never => {
    throw new PolicySyntaxError(file, lineOfKey(text, path), 1, `${path}: ${reason}`);
  };
  if (!isJsonObject(doc)) fail("(top)", "expected an object");
  const top = doc as Record<string, unknown>;
  const d = (isJsonObject(top.dealer) ? top.dealer : top) as Record<string, unknown>;
  const at = d === top ? "" : "dealer.";
  const r = jsonReader(d, at, fail);
  r.allowKeys([
    "partition_name",
    "group_name",
    "target_sites",
    "target_site_occupancy",
    "max_site_pending_fraction",
    "max_total_cycle_volume",
    "plugins",
    "attrs",
    ...IGNORED_KEYS,
  ]);
  const plugins: PluginEntry[] = [];
  const rawPlugins = d.plugins;
  if (!isJsonObject(rawPlugins)) fail(`${at}plugins`, "expected an object of named plugins");
  for (const [name, raw] of Object.entries(rawPlugins as Record<string, unknown>)) {
    plugins.push(parsePlugin(name, raw, `${at}plugins.${name}`, fail));
  }
  let halfLife = 3;
  if (d.attrs !== undefined) {
    if (!isJsonObject(d.attrs)) fail(`${at}attrs`, "expected an object of attribute producers");
    for (const [name, raw] of Object.entries(d.attrs as Record<string, unknown>)) {
      if (name !== "GlobalQueueRequestHistory") {
        fail(`${at}attrs.${name}`, "unknown producer; expected GlobalQueueRequestHistory");
      }
      const a = jsonReader(raw, `${at}attrs.${name}.`, fail);
      a.allowKeys(["weight_halflife", ...IGNORED_KEYS]);
      halfLife = a.number("weight_halflife", 3, 0.001, 3650);
    }
  }
  return {
    partition: r.text("partition_name"),
    defaultGroup: r.text("group_name"),
    targetSites: r.texts("target_sites"),
    targetSiteOccupancy: r.number("target_site_occupancy", 0.93, 0, 1),
    maxSitePendingFraction: r.number("max_site_pending_fraction", 1, 0, 1),
    maxTotalCycleVolume: r.number("max_total_cycle_volume", 200, 0, 1e6) * TB,
    plugins,
    demandHalfLifeDays: halfLife,
  };
}

function parsePlugin(
  name: string,
  raw: unknown,
  at: string,
  fail: (path: string, reason: string) => never,
): PluginEntry {
  const p = jsonReader(raw, `${at}.`, fail);
  p.allowKeys(["module", "priority", "config"]);
  const module = p.text("module") as PluginModule;
  if (!MODULES.includes(module)) {
    fail(`${at}.module`, `unknown module "${module}"; expected ${MODULES.join(", ")}`);
  }
  const priority = p.number("priority", undefined, 0, 1000);
  const c = jsonReader(p.object("config"), `${at}.config.`, fail);
  const base = { name, priority };
  switch (module) {
    case "CopyRequestsHandler":
      c.allowKeys([
        "max_size",
        "block_request_max",
        "overwritten_groups",
        "max_attempts",
        "request_wait",
        ...IGNORED_KEYS,
      ]);
      return {
        ...base,
        module,
        config: {
          maxSize: c.number("max_size", 200, 0, 1e6) * TB,
          blockRequestMax: c.number("block_request_max", 0.5, 0, 1),
          overwrittenGroups: c.texts("overwritten_groups", []),
          maxAttempts: c.number("max_attempts", Number.POSITIVE_INFINITY, 1, 10_000),
          requestWait: c.number("request_wait", 7, 0, 3650) * 86400,
        },
      };
    case "EnforcerHandler": {
      c.allowKeys(["enforcer", ...IGNORED_KEYS]);
      const e = jsonReader(c.object("enforcer"), `${at}.config.enforcer.`, fail);
      e.allowKeys(["max_dataset_size", "policy"]);
      return {
        ...base,
        module,
        config: { maxDatasetSize: e.number("max_dataset_size", 50, 0, 1e6) * TB, policy: e.text("policy") },
      };
    }
    case "PopularityHandler":
      c.allowKeys(["source_groups", "max_dataset_size", "max_replication", "request_to_replica_threshold"]);
      return {
        ...base,
        module,
        config: {
          sourceGroups: c.texts("source_groups", []),
          maxDatasetSize: c.number("max_dataset_size", 50, 0, 1e6) * TB,
          maxReplication: c.number("max_replication", 10, 1, 1000),
          requestToReplicaThreshold: c.number("request_to_replica_threshold", 1.75, 0.001, 1e9),
        },
      };
    case "BalancingHandler": {
      c.allowKeys(["max_dataset_size", "max_cycle_volume", "target_reasons", ...IGNORED_KEYS]);
      const reasons = c.object("target_reasons", {});
      const targetReasons = new Map<string, number>();
      for (const [reason, copies] of Object.entries(reasons)) {
        if (!Number.isInteger(copies) || (copies as number) < 1) {
          fail(`${at}.config.target_reasons`, `"${reason}": expected a positive number of copies`);
        }
        targetReasons.set(reason.trim(), copies as number);
      }
      return {
        ...base,
        module,
        config: {
          maxDatasetSize: c.number("max_dataset_size", 50, 0, 1e6) * TB,
          maxCycleVolume: c.number("max_cycle_volume", 5, 0, 1e6) * TB,
          targetReasons,
        },
      };
    }
    case "Undertaker":
      c.allowKeys(["additional_sites", ...IGNORED_KEYS]);
      return { ...base, module, config: { additionalSites: c.texts("additional_sites", []) } };
    case "GroupReassigner":
      c.allowKeys(["from_groups", ...IGNORED_KEYS]);
      return { ...base, module, config: { fromGroups: c.texts("from_groups") } };
  }
}

/** Typed field access with errors that name the key. */
