/**
 * Safety preconditions of a command decided on a reader replica (docs/parallel_readers.md):
 * what the decision relied on, by name, so that the writer can re-check it
 * against its own current state at apply time and refuse what no longer
 * holds (optimistic concurrency: decide anywhere, apply once, safely).
 */
import { NULL_GROUP_ID } from "./records.ts";
import type { Snapshot } from "./snapshot.ts";
import type { InventoryCommand } from "./commands.ts";
import { admitOperation, type DatasetOperation, operationsInFlight } from "./dataset_conflicts.ts";

/**
 * Each of `sites` still holds a complete copy of the block that no one is
 * deleting (its owner is not the null group). For a deletion: the copies that
 * must still exist elsewhere; for a copy: the sources it may read from
 * (`atLeast` 1).
 */
export interface CopiesExist {
  readonly op: "copies_exist";
  readonly dataset: string;
  readonly block: string;
  readonly sites: readonly string[];
  /** How many of `sites` must still hold the copy (default: all of them). */
  readonly atLeast?: number;
}

/**
 * The proposed operation does not conflict with the dataset's operations in flight
 * (dataset_conflicts.ts): e.g. a deletion of the only source of a copy committed since the decision.
 */
export interface NoConflict {
  readonly op: "no_conflict";
  readonly dataset: string;
  readonly proposed: DatasetOperation;
}

export type Precondition = CopiesExist | NoConflict;

/** Why the precondition no longer holds, or null when it does. */
export function preconditionProblem(
  snapshot: Snapshot,
  p: Precondition,
  inFlight: (dataset: string) => readonly DatasetOperation[] = (d) => operationsInFlight(snapshot, d),
): string | null {
  if (p.op === "no_conflict") {
    const admission = admitOperation(p.dataset, inFlight(p.dataset), p.proposed);
    return admission.verdict === "allow" ? null : `conflict (${admission.verdict}): ${admission.reason}`;
  }
  const where = `${p.dataset}#${p.block}`;
  const dataset = snapshot.dataset(p.dataset);
  const block = dataset ? snapshot.block(dataset.id, p.block) : undefined;
  if (!dataset || !block) return `block ${JSON.stringify(where)} no longer exists`;
  const missing: string[] = [];
  for (const name of p.sites) {
    const site = snapshot.site(name);
    const dr = site ? snapshot.replica(dataset.id, site.id) : undefined;
    const br = dr ? snapshot.blockReplica(dr, block.id) : undefined;
    if (!br || br.fileIds !== null || br.groupId === NULL_GROUP_ID) missing.push(name);
  }
  const needed = p.atLeast ?? p.sites.length;
  if (p.sites.length - missing.length >= needed) return null;
  return `the copy of ${JSON.stringify(where)} at ${missing.map((s) => JSON.stringify(s)).join(", ")} ` +
    `that the decision relied on is gone, incomplete or being deleted`;
}

/** The first precondition that no longer holds, explained; null when all hold. */
export function firstFailedPrecondition(
  snapshot: Snapshot,
  preconditions: readonly Precondition[],
): string | null {
  // One look at a dataset's operations in flight serves all its blocks' checks.
  const cache = new Map<string, readonly DatasetOperation[]>();
  const inFlight = (d: string) => {
    let ops = cache.get(d);
    if (!ops) cache.set(d, ops = operationsInFlight(snapshot, d));
    return ops;
  };
  for (const p of preconditions) {
    const problem = preconditionProblem(snapshot, p, inFlight);
    if (problem) return problem;
  }
  return null;
}

/**
 * The copies a set of block-replica deletions relies on: for each deleted
 * block, the other sites holding a complete, owned copy that the same
 * deletions do not remove. A block with no such copy relies on nothing (the
 * policy chose to delete its last copy) and gets no precondition.
 */
export function copiesReliedOn(
  snapshot: Snapshot,
  deletions: readonly { siteId: number; blockIds: readonly number[] }[],
): CopiesExist[] {
  const deleted = new Map<number, Set<number>>();
  for (const d of deletions) {
    for (const id of d.blockIds) {
      let sites = deleted.get(id);
      if (!sites) deleted.set(id, sites = new Set());
      sites.add(d.siteId);
    }
  }
  const out: CopiesExist[] = [];
  for (const [blockId, gone] of deleted) {
    const block = snapshot.blockById(blockId);
    if (!block) continue;
    const sites = snapshot.blockReplicasOf(block)
      .filter((br) => !gone.has(br.siteId) && br.fileIds === null && br.groupId !== NULL_GROUP_ID)
      .map((br) => snapshot.siteById(br.siteId)!.name);
    if (sites.length === 0) continue;
    out.push({
      op: "copies_exist",
      dataset: snapshot.datasetById(block.datasetId)!.name,
      block: block.name,
      sites,
    });
  }
  return out;
}

/**
 * The sources a set of copies relies on: for each block to copy, the sites other than the destination
 * holding a complete, owned copy; at least one of them must still hold it when the copies are applied.
 * A block with no such source relies on nothing here (the writer's own validation still applies).
 */
export function sourcesReliedOn(
  snapshot: Snapshot,
  copies: readonly { siteId: number; newBlockIds: readonly number[] }[],
): CopiesExist[] {
  const out: CopiesExist[] = [];
  for (const c of copies) {
    for (const blockId of c.newBlockIds) {
      const block = snapshot.blockById(blockId);
      if (!block) continue;
      const sites = snapshot.blockReplicasOf(block)
        .filter((br) => br.siteId !== c.siteId && br.fileIds === null && br.groupId !== NULL_GROUP_ID)
        .map((br) => snapshot.siteById(br.siteId)!.name);
      if (sites.length === 0) continue;
      out.push({
        op: "copies_exist",
        dataset: snapshot.datasetById(block.datasetId)!.name,
        block: block.name,
        sites,
        atLeast: 1,
      });
    }
  }
  return out;
}

/**
 * The conflicts a set of block-replica deletions must not have at apply time: each deleted block
 * replica, proposed as a deletion by `by`, checked against the dataset's copies in flight then.
 */
export function deletionConflicts(
  snapshot: Snapshot,
  deletions: readonly { siteId: number; blockIds: readonly number[] }[],
  by: "detox" | "user",
): NoConflict[] {
  // The sites each block is deleted at by this same decision: together they may remove every source.
  const sitesOf = new Map<number, string[]>();
  for (const d of deletions) {
    const site = snapshot.siteById(d.siteId);
    if (!site) continue;
    for (const id of d.blockIds) {
      let sites = sitesOf.get(id);
      if (!sites) sitesOf.set(id, sites = []);
      sites.push(site.name);
    }
  }
  const out: NoConflict[] = [];
  for (const [id, sites] of sitesOf) {
    const block = snapshot.blockById(id);
    const dataset = block ? snapshot.datasetById(block.datasetId) : undefined;
    if (!block || !dataset) continue;
    for (const site of sites) {
      const alongside = sites.filter((s) => s !== site);
      out.push({
        op: "no_conflict",
        dataset: dataset.name,
        proposed: {
          kind: "deletion",
          block: block.name,
          site,
          by,
          ...(alongside.length > 0 ? { alongside } : {}),
        },
      });
    }
  }
  return out;
}

/**
 * The conflicts a set of copies must not have at apply time: each block copied to a site, or turned
 * over to a new owner there, proposed as a copy to that site and checked against the dataset's
 * deletions in flight then (a user's deletion of it there committed since the decision).
 */
export function copyConflicts(
  snapshot: Snapshot,
  copies: readonly { siteId: number; newBlockIds: readonly number[]; flipBlockIds: readonly number[] }[],
): NoConflict[] {
  const out: NoConflict[] = [];
  for (const c of copies) {
    const site = snapshot.siteById(c.siteId);
    if (!site) continue;
    for (const blockId of [...c.newBlockIds, ...c.flipBlockIds]) {
      const block = snapshot.blockById(blockId);
      const dataset = block ? snapshot.datasetById(block.datasetId) : undefined;
      if (!block || !dataset) continue;
      const sources = snapshot.blockReplicasOf(block)
        .filter((br) => br.siteId !== c.siteId && br.fileIds === null && br.groupId !== NULL_GROUP_ID)
        .map((br) => snapshot.siteById(br.siteId)!.name);
      out.push({
        op: "no_conflict",
        dataset: dataset.name,
        proposed: { kind: "copy", block: block.name, site: site.name, sources },
      });
    }
  }
  return out;
}

/** The commands that invalidate catalogue entries (files, blocks, datasets): what an invalidation is. */
const INVALIDATING = new Set(["files.delete", "block.delete", "dataset.delete"]);

/**
 * The conflicts an invalidation must not have at apply time: one per dataset whose files, blocks or
 * self the commands remove, checked against the dataset's deletions in flight then (a Detox deletion
 * and an invalidation are never in flight together). Replica deletions are no invalidation: they
 * correct where data is, not what exists. Empty when the commands invalidate nothing.
 */
export function invalidationConflicts(
  commands: readonly InventoryCommand[],
  by?: "consistency" | "user",
): NoConflict[] {
  const datasets = new Set<string>();
  for (const c of commands) {
    if (!INVALIDATING.has(c.op)) continue;
    if (c.op === "dataset.delete") datasets.add(c.name);
    else if (c.op === "block.delete" || c.op === "files.delete") datasets.add(c.dataset);
  }
  return [...datasets].map((dataset) => ({
    op: "no_conflict",
    dataset,
    proposed: { kind: "invalidation", ...(by ? { by } : {}) },
  }));
}
