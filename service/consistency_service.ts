/**
 * Wiring of site consistency into the service (DESIGN.md §4: composition
 * root): the check's
 * dependencies over the database, storage and inventory, the REST port over
 * the agent, /metrics lines, and the configuration file named by
 * DYNAMO_CONSISTENCY_CONFIG (or "consistency": {"config": FILE} in the
 * service configuration).
 */
import type { ConsistencyStore, FindingRow, RunRow } from "../adapters/db/consistency_port.ts";
import type { SiteLister } from "../adapters/storage/listing_port.ts";
import type { SiteStorageResolver } from "../adapters/storage/storage_port.ts";
import { StorageSiteLister } from "../adapters/storage/storage_lister.ts";
import type {
  CheckProgress,
  CheckReply,
  ConsistencyAgentOptions,
  ConsistencyMsg,
} from "../actors/agents/consistency_agent.ts";
import type { CheckSummary } from "../actors/agents/consistency_check.ts";
import { type ActorRef, type ActorSystem, ask } from "../actors/runtime/mod.ts";
import {
  type ConsistencyConfig,
  parseConsistencyConfig,
} from "../policies/consistency/consistency_config.ts";
import type { CommandOutcome, Snapshot, Submission } from "../registry/inventory/mod.ts";
import type { ConsistencyPort, JsonObject } from "../registry/http/consistency_port.ts";

export interface ConsistencySettings {
  config: ConsistencyConfig;
  /** How sites are listed (default: through their storage adapters). */
  lister?: SiteLister;
  /** How often the schedule is looked at (default: an hour, or the interval when shorter); 0 = on request only. */
  tickMs?: number;
}

/** The agent's dependencies. */
export function consistencyAgentDeps(
  settings: ConsistencySettings,
  deps: {
    store: ConsistencyStore;
    storage: SiteStorageResolver;
    snapshot: () => Snapshot;
    submit: (
      s: Submission,
    ) => Promise<{ ok: true; outcomes: CommandOutcome[] } | { ok: false; error: string }>;
    nowMs: () => number;
  },
): Omit<ConsistencyAgentOptions, "ready"> {
  return {
    ...deps,
    lister: settings.lister ?? new StorageSiteLister(deps.storage),
    config: () => settings.config,
    tickMs: settings.tickMs ?? Math.min(3600_000, settings.config.intervalMs),
  };
}

const seconds = (ms: number) => Math.floor(ms / 1000);

export function runJson(r: RunRow): JsonObject {
  return {
    run_id: r.id,
    site: r.site,
    started: seconds(r.startedMs),
    finished: seconds(r.finishedMs),
    duration_s: (r.finishedMs - r.startedMs) / 1000,
    complete: r.complete,
    dry_run: r.dryRun,
    files_listed: r.filesListed,
    dirs_listed: r.dirsListed,
    expected: r.expected,
    missing: r.missing,
    orphan: r.orphan,
    corrupt: r.corrupt,
    unrecoverable: r.unrecoverable,
    unmanaged: r.unmanaged,
    empty_dirs: r.emptyDirs,
    hostile: r.hostile,
    young: r.young,
    unlisted: r.unlisted,
    being_deleted: r.beingDeleted,
    confirmed: r.confirmed,
    acted: r.acted,
    flagged: r.flagged,
    flag_reasons: r.flagReasons,
    withheld: r.withheld,
    failed_dirs: r.failedDirs.map((f) => ({ dir: f.dir, reason: f.reason, attempts: f.attempts })),
  };
}

function findingJson(f: FindingRow): JsonObject {
  return {
    kind: f.kind,
    path: f.path,
    size: f.size,
    listed_size: f.listedSize,
    lfn: f.lfn,
    dataset: f.dataset,
    block: f.block,
    confirmed: f.confirmed,
    action: f.action,
    outcome: f.outcome,
    detail: f.detail,
  };
}

function summaryJson(s: CheckSummary): JsonObject {
  return {
    run_id: s.runId,
    site: s.site,
    complete: s.complete,
    dry_run: s.dryRun,
    flagged: s.flagged,
    flag_reasons: [...s.flagReasons],
    withheld: s.withheld,
    duration_s: s.durationMs / 1000,
    files_listed: s.filesListed,
    missing: s.missing,
    orphan: s.orphan,
    corrupt: s.corrupt,
    unmanaged: s.unmanaged,
    empty_dirs: s.emptyDirs,
    hostile: s.hostile,
    unrecoverable: s.unrecoverable,
    confirmed: s.confirmed,
    acted: s.acted,
    failed_dirs: s.failedDirs.map((f) => ({ dir: f.dir, reason: f.reason, attempts: f.attempts })),
  };
}

export function consistencyPort(
  system: ActorSystem,
  agent: ActorRef<ConsistencyMsg> | null,
  store: ConsistencyStore,
  snapshot: () => Snapshot,
): ConsistencyPort {
  const timeoutMs = 7 * 86_400_000;
  return {
    configured: () => agent !== null,
    knownSite: (site) => snapshot().site(site) !== undefined,
    summary: async () => (await store.latestRuns()).map(runJson),
    async site(site, page) {
      const [run] = await store.latestRuns(site);
      if (!run) return null;
      const { total, rows } = await store.findings(run.id, page);
      return { run: runJson(run), total, findings: rows.map(findingJson) };
    },
    async check(site, dryRun) {
      const r = await ask<ConsistencyMsg, CheckReply>(
        system,
        agent!,
        (replyTo) => ({ type: "check", site, dryRun, replyTo }),
        { timeoutMs },
      );
      return "error" in r ? r : summaryJson(r);
    },
    async progress(site) {
      if (agent === null) return null;
      const p = await ask<ConsistencyMsg, CheckProgress | null>(
        system,
        agent,
        (replyTo) => ({ type: "progress", site, replyTo }),
        { timeoutMs: 60_000 },
      );
      return p === null ? null : {
        site,
        started: seconds(p.startedMs),
        files: p.files,
        dirs: p.dirs,
        queued: p.queued,
        failed: p.failed,
      };
    },
    cancel: (site) =>
      ask<ConsistencyMsg, { cancelled: boolean }>(
        system,
        agent!,
        (replyTo) => ({ type: "cancel", site, replyTo }),
        { timeoutMs: 60_000 },
      ),
    async invalidate(site) {
      const r = await ask<
        ConsistencyMsg,
        { invalidated: number; failed: { path: string; error: string }[] } | { error: string }
      >(system, agent!, (replyTo) => ({ type: "invalidate", site, replyTo }), { timeoutMs: 3600_000 });
      return "error" in r ? r : { invalidated: r.invalidated, failed: r.failed };
    },
  };
}

/** Prometheus lines: the latest run of every site. */
export async function consistencyMetrics(store: ConsistencyStore): Promise<string> {
  const runs = await store.latestRuns();
  if (runs.length === 0) return "";
  const counts = await store.runCounts();
  const lines: string[] = [];
  const metric = (name: string, help: string, value: (r: RunRow) => number) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const r of runs) lines.push(`${name}{site="${r.site}"} ${value(r)}`);
  };
  lines.push(
    "# HELP dynamo_consistency_runs_total Consistency runs recorded",
    "# TYPE dynamo_consistency_runs_total counter",
  );
  for (const [site, n] of counts) lines.push(`dynamo_consistency_runs_total{site="${site}"} ${n}`);
  metric(
    "dynamo_consistency_last_run_seconds",
    "Start of the last run (Unix seconds)",
    (r) => seconds(r.startedMs),
  );
  metric(
    "dynamo_consistency_duration_seconds",
    "Duration of the last run",
    (r) => (r.finishedMs - r.startedMs) / 1000,
  );
  metric(
    "dynamo_consistency_complete",
    "1 when the last run listed every directory",
    (r) => (r.complete ? 1 : 0),
  );
  metric(
    "dynamo_consistency_flagged",
    "1 when the last run was above a safety threshold",
    (r) => (r.flagged ? 1 : 0),
  );
  metric("dynamo_consistency_files_listed", "Files listed by the last run", (r) => r.filesListed);
  for (const kind of ["missing", "orphan", "corrupt", "unrecoverable", "acted"] as const) {
    metric(
      `dynamo_consistency_${kind}_files`,
      `Files ${kind === "acted" ? "acted on" : kind} in the last run`,
      (r) => r[kind],
    );
  }
  return lines.join("\n") + "\n";
}

/** The consistency configuration named by DYNAMO_CONSISTENCY_CONFIG, or null when none. */
export async function consistencyFromEnv(
  env: (name: string) => string | undefined,
): Promise<ConsistencySettings | null> {
  const file = env("DYNAMO_CONSISTENCY_CONFIG");
  if (!file) return null;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new TypeError(`DYNAMO_CONSISTENCY_CONFIG: cannot read ${file}: ${(e as Error).message}`);
  }
  return { config: parseConsistencyConfig(text, file) };
}
