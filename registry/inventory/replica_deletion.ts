/**
 * What deleting block replicas means in the inventory (spec §3.6): they pass
 * to the null group ("being deleted"), a whole replica stops growing, and one
 * deletion operation describes the work for the file operations. Shared by
 * Detox's commit (policies/detox/deletion_plan.ts) and deletion requests.
 */
import type { InventoryCommand } from "./commands.ts";
import type { Snapshot } from "./snapshot.ts";

export interface DeletionOperation {
  readonly siteId: number;
  readonly datasetId: number;
  /** null: the whole dataset replica. */
  readonly blockIds: readonly number[] | null;
  readonly size: number;
}

/**
 * Deleting blocks of a dataset replica at a site: they pass to the null group
 * ("being deleted"), a whole replica stops growing, and one deletion
 * operation describes the work. null when none of the blocks is there.
 */
export function replicaDeletion(
  snapshot: Snapshot,
  siteId: number,
  datasetId: number,
  wanted: readonly number[],
  size?: number,
): { commands: InventoryCommand[]; operation: DeletionOperation } | null {
  const dataset = snapshot.datasetById(datasetId);
  const site = snapshot.siteById(siteId);
  const dr = dataset && site ? snapshot.replica(datasetId, siteId) : undefined;
  if (!dr) return null;
  const present = new Map(dr.blockReplicas.map((br) => [br.blockId, br]));
  const blockIds = wanted.filter((id) => present.has(id));
  if (blockIds.length === 0) return null;
  const whole = blockIds.length === dr.blockReplicas.length;
  const commands: InventoryCommand[] = [];
  if (whole) {
    commands.push({
      op: "dataset_replica.upsert",
      dataset: dataset!.name,
      site: site!.name,
      growing: false,
      group: null,
    });
  }
  for (const id of blockIds) {
    commands.push({
      op: "block_replica.upsert",
      dataset: dataset!.name,
      block: snapshot.blockById(id)!.name,
      site: site!.name,
      group: null,
    });
  }
  return {
    commands,
    operation: {
      siteId,
      datasetId,
      blockIds: whole ? null : blockIds,
      size: size ?? blockIds.reduce((s, id) => s + present.get(id)!.size, 0),
    },
  };
}
