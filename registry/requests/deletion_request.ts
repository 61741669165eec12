/**
 * Deletion requests (spec §4.4 step 4, §8.2 `request/delete`): a user asks
 * for items to be deleted at sites. On the next pass each (item, site) where
 * the item is present becomes an action, executed like a Detox deletion (the
 * block replicas pass to the null group and a deletion operation is written
 * in the same transaction) and completed when the replica is gone. Two rules
 * of ours that the original did not have: an action that would remove the
 * last complete copy of a block anywhere, or that touches data under a Detox
 * lock, fails with the reason instead of deleting.
 */
import {
  admitOperation,
  type DatasetOperation,
  InventoryValidationError,
  NULL_GROUP_ID,
  operationsInFlight,
  replicaDeletion,
  type Snapshot,
} from "../inventory/mod.ts";
import type { InventoryCommand } from "../inventory/mod.ts";
import { checkItemsAndSites, expandSites, itemAt, resolveItem, settleRequest } from "./request_item.ts";

export type DeletionRequestStatus = "new" | "activated" | "completed" | "rejected" | "failed";
export type DeletionActionStatus = "queued" | "completed" | "failed";

export interface DeletionAction {
  readonly item: string;
  readonly site: string;
  readonly status: DeletionActionStatus;
  readonly reason: string | null;
  readonly updatedAt: number;
}

export interface DeletionRequest {
  readonly id: number;
  readonly user: string;
  readonly items: readonly string[];
  readonly sites: readonly string[];
  readonly status: DeletionRequestStatus;
  readonly reason: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly lastRequestAt: number;
  readonly requestCount: number;
  readonly actions: readonly DeletionAction[];
}

export interface DeletionSubmission {
  items: string[];
  sites: string[];
}

export function checkDeletionSubmission(s: DeletionSubmission): DeletionSubmission {
  checkItemsAndSites(s.items, s.sites);
  if (s.sites.length === 0) throw new InventoryValidationError("request", "site", "is required");
  return { items: [...new Set(s.items)].sort(), sites: [...new Set(s.sites)].sort() };
}

/** Locked blocks of a dataset at a site: null = all of them, undefined = none. */
export type LockedBlocks = (datasetId: number, siteId: number) => ReadonlySet<number> | null | undefined;

export interface DeletionWork {
  readonly requests: DeletionRequest[];
  readonly commands: InventoryCommand[];
  readonly operations: {
    requestId: number;
    siteId: number;
    datasetId: number;
    blockIds: readonly number[] | null;
    size: number;
  }[];
}

/** Activates new deletion requests: decides every action and the inventory commands that carry it out. */
export function planDeletionRequests(
  snapshot: Snapshot,
  requests: readonly DeletionRequest[],
  locked: LockedBlocks,
  now: number,
): DeletionWork {
  const commands: InventoryCommand[] = [];
  const operations: DeletionWork["operations"] = [];
  // Block replicas already given up this pass, so two requests cannot together remove a last copy.
  const doomed = new Set<string>();
  const seen = new Map<string, readonly DatasetOperation[]>();
  const inFlight = (name: string) => {
    let ops = seen.get(name);
    if (!ops) seen.set(name, ops = operationsInFlight(snapshot, name));
    return ops;
  };
  const out = requests.map((r): DeletionRequest => {
    if (r.status !== "new") return r;
    const reject = (reason: string): DeletionRequest => ({
      ...r,
      status: "rejected",
      reason,
      updatedAt: now,
    });
    const items = [];
    for (const name of r.items) {
      const x = resolveItem(snapshot, name);
      if (typeof x === "string") return reject(x);
      items.push(x);
    }
    const sites = expandSites(snapshot, r.sites);
    if (sites.length === 0) return reject("no known site matches the request");
    const actions: DeletionAction[] = [];
    // Staged until the whole request is admitted: a request that must wait commits nothing.
    const staged: {
      commands: InventoryCommand[];
      operations: DeletionWork["operations"];
      doomed: Set<string>;
    } = {
      commands: [],
      operations: [],
      doomed: new Set<string>(),
    };
    for (const item of items) {
      const dataset = snapshot.datasetById(item.datasetId)!;
      for (const site of sites) {
        if (itemAt(snapshot, item, site.id).state === "none") continue;
        const dr = snapshot.replica(item.datasetId, site.id)!;
        const blocks = (item.blockIds ?? dataset.blockIds).filter((id) => snapshot.blockReplica(dr, id));
        const fail = (reason: string) =>
          actions.push({ item: item.item, site: site.name, status: "failed", reason, updatedAt: now });
        const locks = locked(item.datasetId, site.id);
        if (locks === null || (locks && blocks.some((id) => locks.has(id)))) {
          fail("locked by a Detox lock");
          continue;
        }
        const owned = blocks.filter((id) => snapshot.blockReplica(dr, id)!.groupId !== NULL_GROUP_ID);
        // A deletion conflicting with the dataset's copies in flight waits for them (dataset_conflicts.ts):
        // the request stays new, the reason recorded, and is planned again on the next pass. Checked before
        // the last-copy rule: the only source of a copy is a last copy until that copy completes.
        const waitFor = conflictOf(snapshot, dataset.name, site.name, owned, inFlight);
        if (waitFor) {
          const reason = `waiting: ${waitFor}`;
          // Unchanged while it waits: the request is not rewritten on every pass.
          return { ...r, reason, updatedAt: r.reason === reason ? r.updatedAt : now };
        }
        const last = blocks.find((id) => {
          const block = snapshot.blockById(id)!;
          return !snapshot.blockReplicasOf(block).some((br) =>
            br.siteId !== site.id && br.fileIds === null && br.groupId !== NULL_GROUP_ID &&
            !doomed.has(`${br.siteId}:${id}`) && !staged.doomed.has(`${br.siteId}:${id}`)
          );
        });
        if (last !== undefined) {
          fail(`would delete the last complete copy of ${dataset.name}#${snapshot.blockById(last)!.name}`);
          continue;
        }
        for (const id of blocks) staged.doomed.add(`${site.id}:${id}`);
        const deletion = owned.length > 0 ? replicaDeletion(snapshot, site.id, item.datasetId, owned) : null;
        if (deletion) {
          staged.commands.push(...deletion.commands);
          staged.operations.push({ requestId: r.id, ...deletion.operation });
        }
        actions.push({ item: item.item, site: site.name, status: "queued", reason: null, updatedAt: now });
      }
    }
    commands.push(...staged.commands);
    operations.push(...staged.operations);
    for (const key of staged.doomed) doomed.add(key);
    if (actions.length === 0) {
      return { ...r, status: "completed", reason: "nothing to delete", updatedAt: now };
    }
    return settleDeletion({ ...r, status: "activated", reason: null, updatedAt: now, actions }, now);
  });
  return { requests: out, commands, operations };
}

/** Why deleting `blockIds` of a dataset at a site must wait for an operation in flight, or null. */
function conflictOf(
  snapshot: Snapshot,
  dataset: string,
  site: string,
  blockIds: readonly number[],
  inFlight: (dataset: string) => readonly DatasetOperation[],
): string | null {
  for (const id of blockIds) {
    const block = snapshot.blockById(id)!.name;
    const admission = admitOperation(dataset, inFlight(dataset), {
      kind: "deletion",
      block,
      site,
      by: "user",
    });
    if (admission.verdict !== "allow") return admission.reason;
  }
  return null;
}

/** Queued actions complete when the item is gone from the site. */
export function trackDeletionRequest(snapshot: Snapshot, r: DeletionRequest, now: number): DeletionRequest {
  if (r.status !== "activated") return r;
  const actions = r.actions.map((a): DeletionAction => {
    if (a.status !== "queued") return a;
    const item = resolveItem(snapshot, a.item);
    const site = snapshot.site(a.site);
    if (typeof item === "string" || !site || itemAt(snapshot, item, site.id).state === "none") {
      return { ...a, status: "completed", reason: null, updatedAt: now };
    }
    return a;
  });
  return settleDeletion({ ...r, actions }, now);
}

function settleDeletion(r: DeletionRequest, now: number): DeletionRequest {
  return settleRequest(r, now);
}
