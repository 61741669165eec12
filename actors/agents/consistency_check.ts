/**
 * One consistency check of one site (spec §6): the inventory before, the
 * listing streamed through the comparison, the inventory after, the safety
 * rules, then the run and its findings recorded in one transaction, and only
 * then the actions, each with its outcome:
 * - a missing or corrupt file leaves the site's block replica in the
 *   inventory (it is not there) and gets a copy subscription in the
 *   file-operations queue, which brings it back from another replica;
 * - an orphan or an old leftover of an unmanaged area is deleted (a deletion
 *   outside the inventory, in the deletion history);
 * - an empty directory is removed.
 * Nothing is recorded before the listing has ended, so a crash or a cancel
 * mid-listing leaves no half-recorded run.
 *
 * Long on purpose (~540 lines): the steps above are one transaction-ordered protocol
 * (nothing recorded before the listing ends, actions only after the record); the comparison itself
 * and the decisions are pure modules in policies/consistency/.
 */
import type {
  ConsistencyStore,
  DeletionRecord,
  FindingRow,
  InventoryFileRow,
  RunRecord,
} from "../../adapters/db/consistency_store_port.ts";
import type { FileOpsStore } from "../../adapters/db/fileops_store_port.ts";
import type { SiteLister, WalkProgress } from "../../adapters/storage/listing_port.ts";
import {
  mappingProtocol,
  type SiteStorageResolver,
  type StorageAdapter,
  StorageError,
} from "../../adapters/storage/storage_port.ts";
import { planActions } from "../../policies/consistency/action_plan.ts";
import { type ExpectedFile, SiteComparison } from "../../policies/consistency/compare.ts";
import { configFingerprint } from "../../policies/consistency/dir_digest.ts";
import { UnchangedDirs } from "../../policies/consistency/unchanged_dirs.ts";
import { findingsOf } from "./consistency_findings.ts";
import {
  type ConsistencyConfig,
  siteConsistency,
  type SiteConsistencyConfig,
} from "../../policies/consistency/consistency_config.ts";
import { assessSafety, confirm, type Confirmed } from "../../policies/consistency/safety.ts";
import {
  type CommandOutcome,
  type InventoryCommand,
  mapLfn,
  type Site,
  type Snapshot,
  type Submission,
} from "../../registry/inventory/mod.ts";

export interface ConsistencyDeps {
  readonly store: ConsistencyStore;
  /** Where lost files get their copy subscriptions (the file-operations queue). */
  readonly fileops: Pick<FileOpsStore, "subscribeCopies">;
  readonly lister: SiteLister;
  readonly storage: SiteStorageResolver;
  readonly snapshot: () => Snapshot;
  readonly submit: (
    s: Submission,
  ) => Promise<{ ok: true; outcomes: CommandOutcome[] } | { ok: false; error: string }>;
  readonly nowMs: () => number;
  readonly config: () => ConsistencyConfig;
  readonly onProgress?: (site: string, progress: WalkProgress) => void;
}

/** A check that cannot start (unknown site, tape not configured, disabled); nothing is recorded. */
export class ConsistencyCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConsistencyCheckError";
  }
}

export interface CheckSummary {
  readonly runId: number;
  readonly site: string;
  readonly complete: boolean;
  readonly dryRun: boolean;
  readonly flagged: boolean;
  readonly flagReasons: readonly string[];
  readonly withheld: string | null;
  readonly durationMs: number;
  readonly filesListed: number;
  /** Unchanged directories whose comparison was skipped. */
  readonly dirsSkipped: number;
  readonly missing: number;
  readonly orphan: number;
  readonly corrupt: number;
  readonly unmanaged: number;
  readonly emptyDirs: number;
  readonly hostile: number;
  readonly unrecoverable: number;
  readonly confirmed: number;
  readonly acted: number;
  readonly failedDirs: readonly { dir: string; reason: string; attempts: number }[];
}

const DELETE_PARALLELISM = 8;

/** The site a check may run on, with its settings; a ConsistencyCheckError when none. */
export function checkableSite(
  deps: ConsistencyDeps,
  name: string,
): { site: Site; cfg: SiteConsistencyConfig } {
  const site = deps.snapshot().site(name);
  if (!site) throw new ConsistencyCheckError(`Unknown site ${JSON.stringify(name)}`);
  const cfg = siteConsistency(deps.config(), site.name);
  if (!cfg.enabled) {
    throw new ConsistencyCheckError(`Consistency checks are turned off for site ${site.name}`);
  }
  if (site.storageType === "mss" && !cfg.includeTape) {
    throw new ConsistencyCheckError(
      `Site ${site.name} is a tape site: it is checked only with include_tape in its consistency settings`,
    );
  }
  return { site, cfg };
}

export async function checkSite(
  deps: ConsistencyDeps,
  name: string,
  options: { dryRun?: boolean; signal?: AbortSignal } = {},
): Promise<CheckSummary> {
  const dryRun = options.dryRun ?? false;
  const { site, cfg } = checkableSite(deps, name);
  const startedMs = deps.nowMs();
  const adapter = await deps.storage.adapter(site);
  const protocol = mappingProtocol(adapter);
  const before = inventoryView(site, protocol, await deps.store.siteFiles(site.name));
  const deleting = await deps.store.deletingDatasets(site.name);
  const incoming = new Set<string>();
  for (const lfn of await deps.store.incomingLfns(site.name)) {
    const path = pathOf(site, lfn, protocol);
    if (path !== null) incoming.add(path);
  }
  const comparison = new SiteComparison({
    config: cfg,
    nowMs: startedMs,
    before: before.view,
    deletingDatasets: deleting,
    incomingPaths: incoming,
  });
  const ignored = cfg.ignoreDirs.map((d) => d.replace(/\/+$/, ""));
  const areas = cfg.unmanaged.map((a) => a.path);
  const roots = [
    ...cfg.roots,
    ...areas.filter((a) => !cfg.roots.some((r) => a === r || a.startsWith(r + "/"))),
  ];
  const fingerprint = configFingerprint(cfg);
  const unchanged = new UnchangedDirs({
    baseline: await deps.store.digestBaseline(site.name),
    fingerprint,
    nowMs: startedMs,
    ignoreAgeMs: cfg.ignoreAgeMs,
    roots: cfg.roots.map((r) => r.replace(/\/+$/, "")),
    before: before.view,
    deletingDatasets: deleting,
    incomingPaths: incoming,
    compared: (path) => comparison.compared(path),
    inArea: (path) => comparison.inArea(path),
  });
  const walk = await deps.lister.walk(site, {
    roots,
    skip: (dir) =>
      ignored.some((d) => `${dir}/`.includes(`${d}/`)) &&
      !areas.some((a) => dir === a || dir.startsWith(a + "/")),
    settings: cfg.listing,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  for await (const batch of walk) {
    comparison.add(unchanged.take(batch));
    deps.onProgress?.(site.name, walk.progress);
  }
  options.signal?.throwIfAborted();
  const failures = [...walk.failures];
  // Directories whose records may have come twice, or not at all, are never skipped.
  const { skipped, replay, relist } = unchanged.decide([...failures.map((f) => f.dir), ...walk.relisted]);
  comparison.add(replay); // candidates that turned out changed, compared with the records they kept
  const relisted: string[] = [];
  if (relist.length > 0) {
    // Candidates that turned out changed: their records were held back, so they are listed again, alone.
    const again = await deps.lister.walk(site, {
      roots: relist,
      skip: () => true,
      settings: { ...cfg.listing, splitDepth: 1 },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    for await (const batch of again) comparison.add(unchanged.take(batch));
    options.signal?.throwIfAborted();
    failures.push(...again.failures);
    relisted.push(...again.failures.map((f) => f.dir), ...again.relisted);
  }
  const after = inventoryView(site, protocol, await deps.store.siteFiles(site.name));
  const complete = failures.length === 0;
  const result = comparison.finish(after.view, failures.map((f) => f.dir), unchanged.skipped);
  const safety = assessSafety(result, cfg, before.view.size);
  const confirmed: Confirmed = complete
    ? confirm(result, await deps.store.previousComplete(site.name), startedMs, cfg.confirmAfterMs)
    : { missing: [], orphan: [], why: "the listing is incomplete" };
  const sources = await deps.store.otherReplicas(
    site.name,
    confirmed.missing.flatMap((p) => (p.lfn ? [p.lfn] : [])),
  );
  const plan = planActions({
    result,
    complete,
    safety,
    confirmed,
    config: cfg,
    dryRun,
    sourcesOf: (p) => (p.lfn ? sources.get(p.lfn) ?? [] : []),
  });
  const findings = findingsOf(result, confirmed, plan);
  const run: RunRecord = {
    site: site.name,
    startedMs,
    finishedMs: deps.nowMs(),
    complete,
    dryRun,
    flagged: safety.flagged,
    flagReasons: [...safety.reasons],
    withheld: plan.withheld,
    filesListed: result.filesListed,
    dirsListed: result.dirsListed,
    dirsSkipped: skipped,
    configFingerprint: fingerprint,
    expected: result.expected,
    missing: result.missing.length,
    orphan: result.orphan.length,
    corrupt: result.corrupt.length,
    unmanaged: result.unmanaged.length,
    emptyDirs: result.emptyDirs.length,
    hostile: result.hostileCount,
    young: result.young,
    unlisted: result.unlisted,
    beingDeleted: result.beingDeleted,
    unrecoverable: plan.unrecoverable.length,
    confirmed: confirmed.missing.length + confirmed.orphan.length,
    acted: 0,
    failedDirs: failures,
  };
  // Only a complete run that is not a dry run is a baseline for the next one (and keeps digests).
  const digests = complete && !dryRun ? unchanged.records(relisted) : undefined;
  const runId = await deps.store.recordRun(run, findings, deps.nowMs(), digests);
  let acted = 0;
  if (plan.withheld === null) {
    acted = await act(deps, site, adapter, runId, after.files);
  }
  return {
    runId,
    site: site.name,
    complete,
    dryRun,
    flagged: safety.flagged,
    flagReasons: safety.reasons,
    withheld: plan.withheld,
    durationMs: run.finishedMs - startedMs,
    filesListed: result.filesListed,
    dirsSkipped: skipped,
    missing: run.missing,
    orphan: run.orphan,
    corrupt: run.corrupt,
    unmanaged: run.unmanaged,
    emptyDirs: run.emptyDirs,
    hostile: run.hostile,
    unrecoverable: run.unrecoverable,
    confirmed: run.confirmed,
    acted,
    failedDirs: failures,
  };
}

function pathOf(site: Site, lfn: string, protocol: string): string | null {
  try {
    return mapLfn(site, lfn, protocol);
  } catch {
    return null; // an unmappable LFN cannot be on the site's storage under any name we could list
  }
}

function inventoryView(site: Site, protocol: string, rows: InventoryFileRow[]) {
  const view = new Map<string, ExpectedFile>();
  const files = new Map<string, InventoryFileRow>();
  for (const row of rows) {
    const path = pathOf(site, row.lfn, protocol);
    if (path === null) continue;
    view.set(path, {
      lfn: row.lfn,
      size: row.size,
      dataset: row.dataset,
      block: row.block,
      sinceMs: row.sinceMs,
    });
    files.set(row.lfn, row);
  }
  return { view, files };
}

/** Carries out the recorded, pending actions of a run; returns how many succeeded. */
async function act(
  deps: ConsistencyDeps,
  site: Site,
  adapter: StorageAdapter,
  runId: number,
  files: Map<string, InventoryFileRow>,
): Promise<number> {
  const todo = await deps.store.actionable(runId);
  const outcomes: { id: number; outcome: string }[] = [];
  let acted = 0;
  const done = (f: FindingRow, outcome: string) => {
    outcomes.push({ id: f.id, outcome });
    if (!outcome.startsWith("failed")) acted++;
  };
  // Missing and corrupt: the inventory learns the site lacks them, then the queue copies them back.
  const recopy = todo.filter((f) => f.action === "recopy");
  const byBlock = new Map<string, FindingRow[]>();
  for (const f of recopy) {
    const key = JSON.stringify([f.dataset, f.block]);
    const group = byBlock.get(key);
    if (group) group.push(f); // not a copy per file: a block of 10,000 lost files made 50 M copies
    else byBlock.set(key, [f]);
  }
  const subscribe: FindingRow[] = [];
  for (const [key, lost] of byBlock) {
    const [dataset, block] = JSON.parse(key) as [string, string];
    const error = await shrinkBlockReplica(
      deps,
      site,
      dataset,
      block,
      new Set(lost.map((f) => f.lfn!)),
      files,
    );
    if (error) { for (const f of lost) done(f, `failed: ${error}`); }
    else subscribe.push(...lost);
  }
  for (const f of subscribe.filter((f) => f.kind === "corrupt")) {
    await adapter.delete(f.path).catch(() => {}); // the copy replaces it anyway; a wrong file never stays named right
  }
  // A finished subscription for the same file and site is made new again: the file was lost since.
  await deps.fileops.subscribeCopies(
    subscribe.map((f) => ({
      site: site.name,
      lfn: f.lfn!,
      dataset: f.dataset!,
      block: f.block!,
      size: f.size ?? 0,
      adler32: files.get(f.lfn!)?.adler32 ?? null,
    })),
    { nowMs: deps.nowMs(), renewFinished: true },
  );
  for (const f of subscribe) done(f, "subscribed");
  // Orphans and unmanaged leftovers: deletions outside the inventory, in batches.
  const deletions = todo.filter((f) => f.action === "delete");
  for (let i = 0; i < deletions.length; i += 100) {
    const batch = deletions.slice(i, i + 100);
    const records: DeletionRecord[] = [];
    for (let j = 0; j < batch.length; j += DELETE_PARALLELISM) {
      await Promise.all(
        batch.slice(j, j + DELETE_PARALLELISM).map(async (f) => {
          const startedMs = deps.nowMs();
          try {
            const removed = await adapter.delete(f.path);
            done(f, removed ? "deleted" : "gone");
            records.push({
              path: f.path,
              size: f.listedSize ?? 0,
              ok: true,
              code: null,
              message: removed ? "consistency: not in the inventory" : "consistency: already gone",
              startedMs,
              finishedMs: deps.nowMs(),
            });
          } catch (e) {
            const code = e instanceof StorageError ? e.code : "EIO";
            const message = e instanceof Error ? e.message : String(e);
            done(f, `failed: ${message}`);
            records.push({
              path: f.path,
              size: f.listedSize ?? 0,
              ok: false,
              code,
              message,
              startedMs,
              finishedMs: deps.nowMs(),
            });
          }
        }),
      );
    }
    await deps.store.recordDeletions(site.name, records);
  }
  // Empty directories, deepest first (the plan's order).
  for (const f of todo.filter((f) => f.action === "rmdir")) {
    try {
      done(f, (await adapter.rmdir(f.path)) ? "removed" : "gone");
    } catch (e) {
      done(f, `failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  await deps.store.recordOutcomes(outcomes, acted, runId, deps.nowMs());
  return acted;
}

/**
 * The site's replica of a block without the lost files, in one atomic
 * submission (the inventory has no command that takes files out of a block
 * replica): delete it, keep the dataset replica, put it back with the files
 * still there. null when applied, else why not.
 */
async function shrinkBlockReplica(
  deps: ConsistencyDeps,
  site: Site,
  datasetName: string,
  blockName: string,
  lost: Set<string>,
  files: Map<string, InventoryFileRow>,
): Promise<string | null> {
  const snapshot = deps.snapshot();
  const dataset = snapshot.dataset(datasetName);
  const block = dataset ? snapshot.block(dataset.id, blockName) : undefined;
  const dr = dataset ? snapshot.replica(dataset.id, site.id) : undefined;
  const br = dr && block ? snapshot.blockReplica(dr, block.id) : undefined;
  if (!dataset || !block || !dr || !br) return "the block replica is no longer in the inventory";
  const group = (id: number) => snapshot.groupById(id)?.name ?? null;
  const keep = [...files.values()]
    .filter((f) => f.dataset === datasetName && f.block === blockName && !lost.has(f.lfn))
    .map((f) => f.lfn);
  const commands: InventoryCommand[] = [
    { op: "block_replica.delete", dataset: datasetName, block: blockName, site: site.name },
    {
      op: "dataset_replica.upsert",
      dataset: datasetName,
      site: site.name,
      group: group(dr.groupId),
      growing: dr.growing,
    },
    {
      op: "block_replica.upsert",
      dataset: datasetName,
      block: blockName,
      site: site.name,
      group: group(br.groupId),
      is_custodial: br.isCustodial,
      files: keep,
    },
  ];
  const reply = await deps.submit({ commands, atomic: true });
  if (!reply.ok) return reply.error;
  const bad = reply.outcomes.find((o) => o.status !== "applied");
  if (bad) return bad.status === "rejected" ? bad.error.message : bad.reason;
  return null;
}

/** Marks the unrecoverable files of a site's last complete run invalid (removed from the catalogue). */
export async function invalidateUnrecoverable(
  deps: ConsistencyDeps,
  name: string,
): Promise<{ invalidated: number; failed: { path: string; error: string }[] }> {
  const site = deps.snapshot().site(name);
  if (!site) throw new ConsistencyCheckError(`Unknown site ${JSON.stringify(name)}`);
  const rows = await deps.store.unrecoverable(site.name);
  const byBlock = new Map<string, FindingRow[]>();
  for (const f of rows) {
    if (!f.lfn || !f.dataset || !f.block) continue;
    const key = JSON.stringify([f.dataset, f.block]);
    const group = byBlock.get(key);
    if (group) group.push(f); // not a copy per file: a block of 10,000 lost files made 50 M copies
    else byBlock.set(key, [f]);
  }
  const groups = [...byBlock.values()];
  const failed: { path: string; error: string }[] = [];
  const outcomes: { id: number; outcome: string }[] = [];
  if (groups.length === 0) return { invalidated: 0, failed };
  const reply = await deps.submit({
    commands: groups.map((g) => ({
      op: "files.delete" as const,
      dataset: g[0]!.dataset!,
      block: g[0]!.block!,
      lfns: g.map((f) => f.lfn!),
    })),
  });
  if (!reply.ok) throw new ConsistencyCheckError(`The inventory refused the invalidation: ${reply.error}`);
  groups.forEach((g, i) => {
    const o = reply.outcomes[i];
    for (const f of g) {
      if (o?.status === "applied") outcomes.push({ id: f.id, outcome: "invalidated" });
      else {
        failed.push({
          path: f.path,
          error: o?.status === "rejected"
            ? o.error.message
            : o?.status === "aborted"
            ? o.reason
            : "no outcome",
        });
      }
    }
  });
  if (outcomes.length > 0) {
    await deps.store.recordOutcomes(outcomes, outcomes.length, rows[0]!.runId, deps.nowMs());
  }
  return { invalidated: outcomes.length, failed };
}
