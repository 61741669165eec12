/**
 * Wiring of site consistency into the service (docs/architecture.md: composition
 * root): the check's dependencies over the database, storage and inventory,
 * the registry's ConsistencyChecks over the agent, and /metrics lines.
 */
import type { ConsistencyStore, RunRow } from "../adapters/db/consistency_store_port.ts";
import type { FileOpsStore } from "../adapters/db/fileops_store_port.ts";
import type { SiteStorageResolver } from "../adapters/storage/storage_port.ts";
import { StorageSiteLister } from "../adapters/storage/storage_lister.ts";
import type {
  CheckProgress,
  CheckReply,
  ConsistencyAgentOptions,
  ConsistencyMsg,
} from "../actors/agents/consistency_agent.ts";
import { type ActorRef, type ActorSystem, ask } from "../actors/runtime/mod.ts";
import type { CommandOutcome, Snapshot, Submission } from "../registry/inventory/mod.ts";
import type { ConsistencyChecks } from "../registry/http/consistency_checks.ts";
import type { ConsistencySettings } from "./config/consistency_settings.ts";

/** The agent's dependencies. */
export function consistencyAgentDeps(
  settings: ConsistencySettings,
  deps: {
    store: ConsistencyStore;
    fileops: Pick<FileOpsStore, "subscribeCopies">;
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

export function consistencyChecks({ system, agent, store, snapshot }: {
  system: ActorSystem;
  agent: ActorRef<ConsistencyMsg> | null;
  store: ConsistencyStore;
  snapshot: () => Snapshot;
}): ConsistencyChecks {
  const timeoutMs = 7 * 86_400_000;
  return {
    configured: () => agent !== null,
    knownSite: (site) => snapshot().site(site) !== undefined,
    summary: () => store.latestRuns(),
    async site(site, page) {
      const [run] = await store.latestRuns(site);
      if (!run) return null;
      const { total, rows } = await store.findings(run.id, page);
      return { run, total, findings: rows };
    },
    check: (site, dryRun) =>
      ask<ConsistencyMsg, CheckReply>(
        system,
        agent!,
        (replyTo) => ({ type: "check", site, dryRun, replyTo }),
        { timeoutMs },
      ),
    async progress(site) {
      if (agent === null) return null;
      return await ask<ConsistencyMsg, CheckProgress | null>(
        system,
        agent,
        (replyTo) => ({ type: "progress", site, replyTo }),
        { timeoutMs: 60_000 },
      );
    },
    cancel: (site) =>
      ask<ConsistencyMsg, { cancelled: boolean }>(
        system,
        agent!,
        (replyTo) => ({ type: "cancel", site, replyTo }),
        { timeoutMs: 60_000 },
      ),
    invalidate: (site) =>
      ask<
        ConsistencyMsg,
        { invalidated: number; failed: { path: string; error: string }[] } | { error: string }
      >(system, agent!, (replyTo) => ({ type: "invalidate", site, replyTo }), { timeoutMs: 3600_000 }),
  };
}

const seconds = (ms: number) => Math.floor(ms / 1000);

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
  metric(
    "dynamo_consistency_dirs_skipped",
    "Unchanged directories the last run did not compare again",
    (r) => r.dirsSkipped,
  );
  for (const kind of ["missing", "orphan", "corrupt", "unrecoverable", "acted"] as const) {
    metric(
      `dynamo_consistency_${kind}_files`,
      `Files ${kind === "acted" ? "acted on" : kind} in the last run`,
      (r) => r[kind],
    );
  }
  return lines.join("\n") + "\n";
}
