import type { Block, BlockReplica, Dataset, Group, Site } from "../../registry/inventory/mod.ts";

/**
 * What conditions are evaluated against. Detox evaluates a partition image
 * whose replicas lose block replicas as it deletes; partitions evaluate single
 * block replicas inside the inventory reducer. Both provide these views.
 */
/** The fields of a block replica that the policy language reads. */
export type BlockReplicaFields = Pick<BlockReplica, "size" | "lastUpdate" | "isCustodial" | "fileIds">;

export interface EvalBlockReplica {
  readonly block: Block;
  /** = `block.id`, without reaching the block (a Detox image looks blocks up only when asked). */
  readonly blockId: number;
  readonly br: BlockReplicaFields;
  /** Current owner (Detox may hand a block replica over to another group). */
  readonly groupId: number;
  readonly replica: EvalReplica;
}

export interface EvalReplica {
  readonly dataset: Dataset;
  readonly site: Site;
  readonly growing: boolean;
  /** The block replicas the condition sees (lines may hide some from later lines). */
  visible(): readonly EvalBlockReplica[];
  /**
   * Optional (Detox's image has it): whether `test` holds for some block replica of `visible()`, asked
   * in that order and stopping at the first that holds, without a view per block replica. The block
   * replica passed is a cursor that the next step moves: read it, never keep it.
   */
  someVisible?(test: (b: EvalBlockReplica) => boolean): boolean;
  /** Optional: `visible().length`, without views. */
  visibleCount?(): number;
  /**
   * Optional: `someVisible` over the visible replica of one block only (a replica has at most one per
   * block), found without walking the others.
   */
  someVisibleOfBlock?(blockId: number, test: (b: EvalBlockReplica) => boolean): boolean;
  readonly world: EvalWorld;
}

/** Everything beyond the replica itself: its dataset's other replicas, groups, attributes, time. */
export interface EvalWorld {
  replicasOf(datasetId: number): readonly EvalReplica[];
  group(groupId: number): Group;
  readonly attrs: DatasetAttributes;
}

/** Dataset attributes filled by attribute producers (spec §2.5); defaults when not produced. */
export interface DatasetAttributes {
  lastAccess(datasetId: number): number;
  numAccess(datasetId: number): number;
  usageRank(datasetId: number): number;
  demandRank(datasetId: number): number;
  /** `null`: the whole dataset is locked at the site; a set: those blocks; undefined: none. */
  lockedBlocks(datasetId: number, siteId: number): ReadonlySet<number> | null | undefined;
  enforcerProtected(datasetId: number, siteId: number): boolean;
  onProtectedSite(datasetId: number): boolean;
  unhandledCopyExists(datasetId: number): boolean;
  tapeCopyRequested(datasetId: number): boolean;
  unknownInAllDbs(datasetId: number): boolean;
  isLatestProductionRelease(datasetId: number): boolean;
  relativeAge(blockId: number, siteId: number): number;
}

/** A site partition, for `On`, `When` and `Until` conditions. */
export interface EvalSite {
  readonly site: Site;
  readonly quota: number;
  /** Physical occupancy fraction of the partition at the site. */
  readonly occupancy: number;
}

export type ReplicaTarget = EvalReplica | EvalBlockReplica;

export function isBlockReplica(t: ReplicaTarget): t is EvalBlockReplica {
  return "br" in t;
}

/** `r.visible().some(test)`, through the replica's cursor when it has one (see `someVisible`). */
export function someVisible(r: EvalReplica, test: (b: EvalBlockReplica) => boolean): boolean {
  return r.someVisible !== undefined ? r.someVisible(test) : r.visible().some(test);
}

/** `someVisible(r, (b) => b.blockId === blockId && test(b))`, by the block when the replica can look it up. */
export function someVisibleOfBlock(
  r: EvalReplica,
  blockId: number,
  test: (b: EvalBlockReplica) => boolean,
): boolean {
  return r.someVisibleOfBlock !== undefined
    ? r.someVisibleOfBlock(blockId, test)
    : someVisible(r, (b) => b.blockId === blockId && test(b));
}

/** `r.visible().length`, without views when the replica can count them. */
export function visibleCount(r: EvalReplica): number {
  return r.visibleCount !== undefined ? r.visibleCount() : r.visible().length;
}

/** Attributes when no producer is configured: nothing is locked, accessed or protected. */
export const NO_ATTRIBUTES: DatasetAttributes = {
  lastAccess: () => 0,
  numAccess: () => 0,
  usageRank: () => 0,
  demandRank: () => 0,
  lockedBlocks: () => undefined,
  enforcerProtected: () => false,
  onProtectedSite: () => false,
  unhandledCopyExists: () => false,
  tapeCopyRequested: () => false,
  unknownInAllDbs: () => false,
  isLatestProductionRelease: () => false,
  relativeAge: () => 0,
};
