/**
 * The large listings of the registry (`/data/inventory/datasets`,
 * `/data/inventory/blockreplicas`, `/data/inventory/subscriptions`) as pure
 * functions of a snapshot and a plain query, so that they run in-process or
 * on a reader replica (docs/parallel_readers.md) with the same answer. The
 * routes check the parameters; these only compute.
 */
import { compileGlob, hasWildcard } from "../glob.ts";
import type { Block, BlockReplica, Dataset, DatasetReplica } from "../records.ts";
import type { Snapshot } from "../snapshot.ts";
import { type Pace, UNPACED } from "./pace.ts";

/** `Snapshot.datasetsMatching`, with a wildcard scan of every dataset paced by `pace`. */
export async function datasetsMatchingPaced(
  snapshot: Snapshot,
  pattern: string,
  pace: Pace = UNPACED,
): Promise<Dataset[]> {
  if (!hasWildcard(pattern)) return snapshot.datasetsMatching(pattern);
  const glob = compileGlob(pattern);
  const out: Dataset[] = [];
  for (const d of snapshot.datasets()) {
    await pace();
    if (glob.test(d.name)) out.push(d);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** `/data/inventory/datasets?dataset=PATTERN`. */
export async function datasetListing(snap: Snapshot, pattern: string, pace: Pace = UNPACED) {
  return (await datasetsMatchingPaced(snap, pattern, pace)).map((d) => ({
    name: d.name,
    size: d.size,
    num_files: d.numFiles,
    status: d.status,
    type: d.dataType,
    software_version: d.softwareVersion,
    last_update: d.lastUpdate,
    is_open: d.isOpen,
    num_blocks: d.blockIds.length,
    num_replicas: snap.replicasOf(d.id).length,
  }));
}

export interface BlockReplicaQuery {
  /** Name or wildcard of the datasets. */
  dataset: string;
  /** Wildcard of the block names (after `#`), or null for every block. */
  block: string | null;
  /** Wildcard of the site names, or null. */
  node: string | null;
  complete: boolean | null;
  /** Group name (`None` for none), or null. */
  group: string | null;
  /** Block replicas updated at or after this (s). */
  since: number;
}

/** `/data/inventory/blockreplicas`: the block replicas of the matching datasets (replicas by site with `node`). */
export async function blockReplicaListing(snap: Snapshot, q: BlockReplicaQuery, pace: Pace = UNPACED) {
  const blockPattern = q.block !== null ? compileGlob(q.block) : null;
  const node = q.node !== null ? compileGlob(q.node) : null;
  const out = [];
  for (const d of await datasetsMatchingPaced(snap, q.dataset, pace)) {
    for (const block of snap.blocksOf(d)) {
      await pace();
      if (blockPattern && !blockPattern.test(block.name)) continue;
      const replicas = snap.blockReplicasOf(block).filter((br) => {
        const site = snap.siteById(br.siteId)!;
        if (node && !node.test(site.name)) return false;
        if (q.complete !== null && (br.fileIds === null) !== q.complete) return false;
        if (q.group !== null && (snap.groupById(br.groupId)?.name ?? "None") !== q.group) return false;
        return br.lastUpdate >= q.since;
      });
      if (replicas.length === 0) continue;
      out.push(blockEntry(snap, block, replicas));
    }
  }
  return { block: out };
}

function blockEntry(snap: Snapshot, block: Block, replicas: BlockReplica[]) {
  const yn = (b: boolean) => (b ? "y" : "n");
  return {
    name: snap.blockFullName(block),
    id: block.id,
    files: block.numFiles,
    bytes: block.size,
    is_open: yn(block.isOpen),
    replica: replicas.map((br) => {
      const site = snap.siteById(br.siteId)!;
      const group = snap.groupById(br.groupId);
      return {
        node: site.name,
        node_id: site.id,
        se: site.host,
        files: br.fileIds === null ? block.numFiles : br.fileIds.length,
        bytes: br.size,
        complete: yn(br.fileIds === null),
        time_create: br.lastUpdate,
        time_update: br.lastUpdate,
        group: group?.name ?? null,
        custodial: yn(br.isCustodial),
        subscribed: yn(br.groupId !== 0),
      };
    }),
  };
}

export interface SubscriptionQuery {
  /** Name or wildcard of the datasets. */
  dataset: string;
  /** Wildcard of the block names, or null for dataset-level subscriptions only. */
  block: string | null;
  node: string | null;
  group: string | null;
}

/** `/data/inventory/subscriptions` (PhEDEx's): a dataset's replicas as subscriptions. */
export async function subscriptionListing(snap: Snapshot, q: SubscriptionQuery, pace: Pace = UNPACED) {
  const blockPattern = q.block !== null ? compileGlob(q.block) : null;
  const node = q.node !== null ? compileGlob(q.node) : null;
  const wanted = (siteId: number, groupId: number) =>
    (!node || node.test(snap.siteById(siteId)!.name)) &&
    (q.group === null || (snap.groupById(groupId)?.name ?? "None") === q.group);
  const dataset = [];
  for (const d of await datasetsMatchingPaced(snap, q.dataset, pace)) {
    await pace();
    const blocks = blockPattern ? snap.blocksOf(d).filter((b) => blockPattern.test(b.name)) : [];
    dataset.push(subscriptionJson(snap, d, blocks, wanted));
  }
  return { dataset };
}

function subscriptionJson(
  snap: Snapshot,
  d: Dataset,
  blocks: Block[],
  wanted: (siteId: number, groupId: number) => boolean,
) {
  const replicas = snap.replicasOf(d.id);
  // A replica owned as a whole (its dataset replica has a group) is a dataset-level subscription.
  const owned = (dr: DatasetReplica) => dr.groupId !== 0;
  const block = blocks.map((b) => ({
    name: snap.blockFullName(b),
    id: b.id,
    bytes: b.size,
    files: b.numFiles,
    subscription: snap.blockReplicasOf(b)
      .filter((br) => wanted(br.siteId, br.groupId) && !owned(snap.replica(d.id, br.siteId)!))
      .map((br) => ({
        custodial: br.isCustodial ? "y" : "n",
        group: snap.groupById(br.groupId)?.name ?? null,
        level: "BLOCK",
        node: snap.siteById(br.siteId)!.name,
        node_id: br.siteId,
        node_bytes: br.size,
        percent_bytes: br.fileIds === null ? 100 : 0,
        percent_files: br.fileIds === null ? 100 : 0,
        suspend_until: null,
        time_update: br.lastUpdate,
      })),
  })).filter((b) => b.subscription.length > 0);
  const subscription = replicas
    .filter((dr) => wanted(dr.siteId, dr.groupId) && (owned(dr) || blocks.length === 0))
    .map((dr) => {
      const site = snap.siteById(dr.siteId)!;
      let completeBytes = 0;
      let completeFiles = 0;
      for (const br of dr.blockReplicas) {
        if (br.fileIds !== null) continue;
        const b = snap.blockById(br.blockId)!;
        completeBytes += b.size;
        completeFiles += b.numFiles;
      }
      return {
        custodial: site.name.includes("_MSS") ? "y" : "n",
        group: snap.groupById(dr.groupId)?.name ?? null,
        level: "DATASET",
        node: site.name,
        node_id: site.id,
        node_bytes: dr.blockReplicas.reduce((s, br) => s + br.size, 0),
        percent_bytes: d.size > 0 ? (100 * completeBytes) / d.size : 0,
        percent_files: d.numFiles > 0 ? (100 * completeFiles) / d.numFiles : 0,
        suspend_until: null,
        time_update: dr.blockReplicas.reduce((t, br) => Math.max(t, br.lastUpdate), 0),
      };
    });
  return {
    name: d.name,
    id: d.id,
    bytes: d.size,
    files: d.numFiles,
    is_open: d.isOpen ? "y" : "n",
    subscription,
    ...(block.length > 0 ? { block } : {}),
  };
}
