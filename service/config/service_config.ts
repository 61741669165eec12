/**
 * The service's JSON configuration file (`deno task start --config FILE`,
 * `deno task dynamo config check FILE`). It says in one place what the
 * DYNAMO_* variables say one by one, plus the storage sites:
 *
 *   {
 *     "listen": "127.0.0.1:8080",
 *     "database": { "url": "postgres://…" } | { "home": "/var/lib/dynamo" },
 *     "max_body_bytes": 67108864,
 *     "partitions": "partitions.txt",
 *     "policies_dir": "policies",
 *     "detox": { "policies": ["detox/Physics.txt", { "file": "campaign.txt", "partition": "Physics" }],
 *                "interval_s": 14400, "deletion_per_iteration": 0.01,
 *                "protected_sites": [], "enforcer_rules": "enforcer.json",
 *                "room_for_requests": 0.2, "room_interval_s": 3600 },
 *     "dealer": { "config": "dealer.json", "interval_s": 3600 },
 *     "requests": { "interval_s": 300 },
 *     "fileops": { "interval_s": 30, "link_parallelism": 4, "site_parallelism": 8 },
 *     "scheduler": { "sequences": "dynamo.seq", "tick_s": 10 },
 *     "consistency": { "config": "consistency.json" },
 *     "sites": [{ "name": "T2_A", "backend": "file:///srv/T2_A", "storage_type": "disk",
 *                 "status": "ready", "quotas_tb": { "Physics": 100 } }]
 *   }
 *
 * Every key is optional except inside a site; unknown keys, wrong types and
 * out-of-range numbers are errors naming the key. Relative paths are relative
 * to the configuration file. The file wins over the environment for what it
 * sets; the environment still supplies the rest.
 */
import { dirname, resolve } from "node:path";
import { PolicySyntaxError } from "../../policies/language/errors.ts";
import { isJsonObject, jsonReader, lineOfKey, parseJsonSource } from "../../policies/language/json_source.ts";
import type { InventoryCommand } from "../../registry/inventory/mod.ts";
import {
  configuredDetoxPolicies,
  formatDetoxPolicyEntries,
} from "../../actors/agents/detox_policy_entries.ts";

export interface ConfiguredSite {
  name: string;
  backend: string;
  storageType: "disk" | "mss";
  status: "ready" | "waitroom" | "morgue";
  /** Partition name → TB. */
  quotasTb: Record<string, number>;
}

export interface ServiceConfig {
  file: string;
  /** DYNAMO_* settings the file gives, as the environment would. */
  env: Record<string, string>;
  sites: ConfiguredSite[];
}

const SITE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
const TB = 1e12;

export function parseServiceConfig(text: string, file: string): ServiceConfig {
  const doc = parseJsonSource(text, file);
  const fail = (path: string, reason: string): never => {
    throw new PolicySyntaxError(file, lineOfKey(text, path), 1, `${path}: ${reason}`);
  };
  if (!isJsonObject(doc)) fail("(top)", "expected an object");
  // Absolute from here on: these paths outlive the working directory (child processes, file:// URLs).
  const dir = resolve(dirname(file));
  const path = (p: string) => resolve(dir, p);
  const env: Record<string, string> = {};
  const set = (name: string, value: string | number | undefined) => {
    if (value !== undefined) env[name] = String(value);
  };
  const top = jsonReader(doc, "", fail);
  top.allowKeys([
    "listen",
    "database",
    "max_body_bytes",
    "request_deadline_s",
    "cycle_budget_s",
    "partitions",
    "policies_dir",
    "detox",
    "dealer",
    "requests",
    "fileops",
    "scheduler",
    "consistency",
    "sites",
  ]);
  const resolved = (p: string | undefined) => (p === undefined ? undefined : path(p));
  const listen = top.optionalText("listen");
  if (listen !== undefined && !/^[^\s:]+:\d{1,5}$/.test(listen)) fail("listen", "expected HOST:PORT");
  set("DYNAMO_LISTEN", listen);
  const database = top.optionalSection("database");
  if (database) {
    database.allowKeys(["url", "home"]);
    const url = database.optionalText("url");
    const home = database.optionalText("home");
    if ((url === undefined) === (home === undefined)) fail("database", 'give exactly one of "url" or "home"');
    if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) fail("database.url", "expected postgres://…");
    set("DYNAMO_DATABASE_URL", url);
    set("DYNAMO_HOME", resolved(home));
  }
  set("DYNAMO_MAX_BODY_BYTES", top.optionalNumber("max_body_bytes", 1, 2 ** 31));
  set("DYNAMO_REQUEST_DEADLINE", top.optionalNumber("request_deadline_s", 0.1, 86_400));
  set("DYNAMO_CYCLE_BUDGET", top.optionalNumber("cycle_budget_s", 0.1, 86_400));
  set("DYNAMO_PARTITIONS", resolved(top.optionalText("partitions")));
  set("DYNAMO_POLICIES", resolved(top.optionalText("policies_dir")));
  const detox = top.optionalSection("detox");
  if (detox) {
    detox.allowKeys([
      "policies",
      "interval_s",
      "deletion_per_iteration",
      "protected_sites",
      "enforcer_rules",
      "room_for_requests",
      "room_interval_s",
    ]);
    if ((doc as Record<string, Record<string, unknown>>).detox!.policies !== undefined) {
      set(
        "DYNAMO_DETOX_POLICIES",
        formatDetoxPolicyEntries(configuredDetoxPolicies(detox.list("policies"), path, fail)),
      );
    }
    set("DYNAMO_DETOX_INTERVAL", detox.optionalNumber("interval_s", 0, 31 * 86400));
    set("DYNAMO_DETOX_DELETION_PER_ITERATION", detox.optionalNumber("deletion_per_iteration", 0.0001, 1));
    set("DYNAMO_PROTECTED_SITES", detox.optionalTexts("protected_sites")?.join(","));
    set("DYNAMO_ENFORCER_RULES", resolved(detox.optionalText("enforcer_rules")));
    set("DYNAMO_DETOX_ROOM_FOR_REQUESTS", detox.optionalNumber("room_for_requests", 0, 1));
    set("DYNAMO_DETOX_ROOM_INTERVAL", detox.optionalNumber("room_interval_s", 60, 31 * 86400));
  }
  const dealer = top.optionalSection("dealer");
  if (dealer) {
    dealer.allowKeys(["config", "interval_s"]);
    set("DYNAMO_DEALER_CONFIG", path(dealer.text("config")));
    set("DYNAMO_DEALER_INTERVAL", dealer.optionalNumber("interval_s", 0, 31 * 86400));
  }
  const requests = top.optionalSection("requests");
  if (requests) {
    requests.allowKeys(["interval_s"]);
    set("DYNAMO_REQUEST_INTERVAL", requests.optionalNumber("interval_s", 0, 86400));
  }
  const fileops = top.optionalSection("fileops");
  if (fileops) {
    fileops.allowKeys(["interval_s", "link_parallelism", "site_parallelism"]);
    set("DYNAMO_FILEOPS_INTERVAL", fileops.optionalNumber("interval_s", 0, 86400));
    set("DYNAMO_LINK_PARALLELISM", fileops.optionalNumber("link_parallelism", 1, 1000));
    set("DYNAMO_SITE_PARALLELISM", fileops.optionalNumber("site_parallelism", 1, 10000));
  }
  const scheduler = top.optionalSection("scheduler");
  if (scheduler) {
    scheduler.allowKeys(["sequences", "tick_s"]);
    set("DYNAMO_SEQUENCES", path(scheduler.text("sequences")));
    set("DYNAMO_SCHEDULER_TICK", scheduler.optionalNumber("tick_s", 1, 3600));
  }
  const consistency = top.optionalSection("consistency");
  if (consistency) {
    consistency.allowKeys(["config"]);
    set("DYNAMO_CONSISTENCY_CONFIG", path(consistency.text("config")));
  }
  const sites: ConfiguredSite[] = [];
  top.list("sites").forEach((raw, i) => {
    const at = `sites[${i}].`;
    const s = jsonReader(raw, at, fail);
    s.allowKeys(["name", "backend", "storage_type", "status", "quotas_tb"]);
    const name = s.text("name");
    if (!SITE_NAME.test(name)) fail(`${at}name`, `not a site name: ${JSON.stringify(name)}`);
    if (sites.some((x) => x.name === name)) fail(`${at}name`, `site ${name} is listed twice`);
    const storageType = s.optionalText("storage_type") ?? "disk";
    if (storageType !== "disk" && storageType !== "mss") {
      fail(`${at}storage_type`, 'expected "disk" or "mss"');
    }
    const status = s.optionalText("status") ?? "ready";
    if (!["ready", "waitroom", "morgue"].includes(status)) {
      fail(`${at}status`, 'expected "ready", "waitroom" or "morgue"');
    }
    const quotasRaw = (raw as Record<string, unknown>).quotas_tb === undefined ? {} : s.object("quotas_tb");
    const q = jsonReader(quotasRaw, `${at}quotas_tb.`, fail);
    const quotasTb: Record<string, number> = {};
    for (const partition of Object.keys(quotasRaw)) {
      quotasTb[partition] = q.number(partition, undefined, 0, 1e6);
    }
    sites.push({
      name,
      backend: s.text("backend"),
      storageType: storageType as "disk" | "mss",
      status: status as ConfiguredSite["status"],
      quotasTb,
    });
  });
  return { file, env, sites };
}

/** The configuration key behind each variable, so a later error (a policy file that does not parse) names it. */
const KEY_OF: Record<string, string> = {
  DYNAMO_LISTEN: "listen",
  DYNAMO_DATABASE_URL: "database.url",
  DYNAMO_HOME: "database.home",
  DYNAMO_MAX_BODY_BYTES: "max_body_bytes",
  DYNAMO_REQUEST_DEADLINE: "request_deadline_s",
  DYNAMO_CYCLE_BUDGET: "cycle_budget_s",
  DYNAMO_PARTITIONS: "partitions",
  DYNAMO_POLICIES: "policies_dir",
  DYNAMO_DETOX_POLICIES: "detox.policies",
  DYNAMO_DETOX_INTERVAL: "detox.interval_s",
  DYNAMO_DETOX_DELETION_PER_ITERATION: "detox.deletion_per_iteration",
  DYNAMO_PROTECTED_SITES: "detox.protected_sites",
  DYNAMO_ENFORCER_RULES: "detox.enforcer_rules",
  DYNAMO_DETOX_ROOM_FOR_REQUESTS: "detox.room_for_requests",
  DYNAMO_DETOX_ROOM_INTERVAL: "detox.room_interval_s",
  DYNAMO_DEALER_CONFIG: "dealer.config",
  DYNAMO_DEALER_INTERVAL: "dealer.interval_s",
  DYNAMO_REQUEST_INTERVAL: "requests.interval_s",
  DYNAMO_FILEOPS_INTERVAL: "fileops.interval_s",
  DYNAMO_LINK_PARALLELISM: "fileops.link_parallelism",
  DYNAMO_SITE_PARALLELISM: "fileops.site_parallelism",
  DYNAMO_SEQUENCES: "scheduler.sequences",
  DYNAMO_SCHEDULER_TICK: "scheduler.tick_s",
};

/** Rewrites "DYNAMO_X: …" in an error about a setting the file gave as "FILE: key: …". */
export function inConfigTerms(message: string, config: ServiceConfig): string {
  return message.replace(
    /\bDYNAMO_[A-Z_]+\b/g,
    (name) => name in config.env && KEY_OF[name] ? `${config.file}: ${KEY_OF[name]}` : name,
  );
}

/** What the start applies so the inventory knows the configured sites (backends are checked when used). */
export function siteCommands(sites: ConfiguredSite[]): InventoryCommand[] {
  return sites.flatMap((s): InventoryCommand[] => [
    { op: "site.upsert", name: s.name, storage_type: s.storageType, status: s.status, backend: s.backend },
    ...Object.entries(s.quotasTb).map(([partition, tb]): InventoryCommand => ({
      op: "quota.set",
      site: s.name,
      partition,
      quota: Math.round(tb * TB),
    })),
  ]);
}
