/**
 * Items and sites of copy and deletion requests (spec §4.4, §8.2 `request`):
 * an item is a dataset name or `dataset#block`; sites are names or shell
 * wildcards expanded over the known sites.
 */
import {
  compileGlob,
  InventoryValidationError,
  nameProblem,
  type Site,
  type Snapshot,
  splitBlockFullName,
} from "../inventory/mod.ts";

export const MAX_REQUEST_ITEMS = 1000;

/** Checks the item and site lists of a submission; errors name the field. */
export function checkItemsAndSites(items: readonly string[], sites: readonly string[]): void {
  const fail = (field: string, reason: string): never => {
    throw new InventoryValidationError("request", field, reason);
  };
  if (items.length === 0) fail("item", "is required");
  if (items.length > MAX_REQUEST_ITEMS) fail("item", `at most ${MAX_REQUEST_ITEMS} items`);
  for (const item of items) {
    const block = item.includes("#") ? splitBlockFullName(item) : null;
    if (item.includes("#") && !block) {
      fail("item", `expected DATASET or DATASET#BLOCK, got ${JSON.stringify(item)}`);
    }
    const problem = nameProblem("dataset", block ? block[0] : item) ??
      (block ? nameProblem("block", block[1]) : null);
    if (problem) fail("item", problem);
  }
  if (sites.length > MAX_REQUEST_ITEMS) fail("site", `at most ${MAX_REQUEST_ITEMS} sites`);
  for (const s of sites) {
    if (nameProblem("site", s.replaceAll("*", "x").replaceAll("?", "x"))) {
      fail("site", `invalid site name or pattern ${JSON.stringify(s)}`);
    }
  }
}

export interface ResolvedItem {
  readonly item: string;
  readonly datasetId: number;
  /** null: the whole dataset. */
  readonly blockIds: readonly number[] | null;
  readonly bytes: number;
}

/** The dataset (and block) an item names, or why not. */
export function resolveItem(snapshot: Snapshot, item: string): ResolvedItem | string {
  const parts = item.includes("#") ? splitBlockFullName(item) : null;
  const dataset = snapshot.dataset(parts ? parts[0] : item);
  if (!dataset) return `unknown dataset ${JSON.stringify(parts ? parts[0] : item)}`;
  if (!parts) return { item, datasetId: dataset.id, blockIds: null, bytes: dataset.size };
  const block = snapshot.block(dataset.id, parts[1]);
  if (!block) return `unknown block ${JSON.stringify(item)}`;
  return { item, datasetId: dataset.id, blockIds: [block.id], bytes: block.size };
}

/** Known sites matching any of the names or patterns, in name order. */
export function expandSites(snapshot: Snapshot, patterns: readonly string[]): Site[] {
  const res = patterns.map((p) => compileGlob(p));
  return snapshot.sites().filter((s) => res.some((re) => re.test(s.name)));
}

/**
 * How much of an item a site holds: `complete` (every block, complete),
 * `partial` (every block present, some still arriving), `some` (only some
 * blocks), or `none`; and whether all present blocks belong to `groupId`.
 */
export function itemAt(
  snapshot: Snapshot,
  item: ResolvedItem,
  siteId: number,
  groupId?: number,
): { state: "complete" | "partial" | "some" | "none"; owned: boolean } {
  const dataset = snapshot.datasetById(item.datasetId)!;
  const dr = snapshot.replica(item.datasetId, siteId);
  const blocks = item.blockIds ?? dataset.blockIds;
  if (!dr) return { state: "none", owned: false };
  let present = 0;
  let complete = 0;
  let owned = true;
  for (const id of blocks) {
    const br = snapshot.blockReplica(dr, id);
    if (!br) continue;
    present += 1;
    if (br.fileIds === null) complete += 1;
    if (groupId !== undefined && br.groupId !== groupId) owned = false;
  }
  if (present === 0) return { state: "none", owned: false };
  if (present < blocks.length) return { state: "some", owned };
  return { state: complete === blocks.length ? "complete" : "partial", owned };
}

/** Whether a submission names the same items and sites as a request (both sorted, as checked submissions are). */
export function sameItemsAndSites(
  r: { items: readonly string[]; sites: readonly string[] },
  s: { items: readonly string[]; sites: readonly string[] },
): boolean {
  const eq = (a: readonly string[], b: readonly string[]) =>
    a.length === b.length && a.every((x, i) => x === b[i]);
  return eq(r.items, s.items) && eq(r.sites, s.sites);
}

interface Settleable {
  readonly status: string;
  readonly reason: string | null;
  readonly updatedAt: number;
  readonly actions: readonly { item: string; site: string; status: string; reason: string | null }[];
}

/**
 * An activated request whose actions have all ended ends too: completed, or
 * failed with the first failure as its reason.
 */
export function settleRequest<R extends Settleable>(r: R, now: number): R {
  if (r.status !== "activated" || r.actions.some((a) => a.status === "new" || a.status === "queued")) {
    return r;
  }
  const failed = r.actions.find((a) => a.status === "failed");
  return {
    ...r,
    status: failed ? "failed" : "completed",
    reason: failed ? `${failed.item} at ${failed.site}: ${failed.reason}` : null,
    updatedAt: now,
  };
}
