/**
 * What committing a Detox result means (spec §3.4, §3.6): per site, each
 * deleted dataset replica becomes a deletion operation (the whole replica when
 * every block replica goes, otherwise the list of blocks) and its block
 * replicas pass to the null group ("being deleted"); a whole replica also
 * stops growing. Block replicas handed over change owner. The replicas leave
 * the inventory later, when the file operations have removed the files.
 */
import type { InventoryCommand, Snapshot } from "../../registry/inventory/mod.ts";
import type { DetoxResult } from "./detox_engine.ts";

export interface DeletionOperation {
  readonly siteId: number;
  readonly datasetId: number;
  /** null: the whole dataset replica. */
  readonly blockIds: readonly number[] | null;
  readonly size: number;
}

export interface DeletionPlan {
  readonly commands: InventoryCommand[];
  readonly operations: DeletionOperation[];
}

export function deletionPlan(snapshot: Snapshot, result: DetoxResult): DeletionPlan {
  const commands: InventoryCommand[] = [];
  const operations: DeletionOperation[] = [];
  const sorted = [...result.deletions].sort((a, b) =>
    snapshot.siteById(a.siteId)!.name.localeCompare(snapshot.siteById(b.siteId)!.name) ||
    a.datasetId - b.datasetId
  );
  for (const d of sorted) {
    const dataset = snapshot.datasetById(d.datasetId)!;
    const site = snapshot.siteById(d.siteId)!;
    const dr = snapshot.replica(d.datasetId, d.siteId);
    if (!dr) continue; // gone since the snapshot (cannot happen within one writer batch)
    const present = new Set(dr.blockReplicas.map((br) => br.blockId));
    const blockIds = d.blockIds.filter((id) => present.has(id));
    if (blockIds.length === 0) continue;
    const whole = blockIds.length === dr.blockReplicas.length;
    operations.push({
      siteId: d.siteId,
      datasetId: d.datasetId,
      blockIds: whole ? null : blockIds,
      size: d.size,
    });
    if (whole) {
      commands.push({
        op: "dataset_replica.upsert",
        dataset: dataset.name,
        site: site.name,
        growing: false,
        group: null,
      });
    }
    for (const id of blockIds) {
      commands.push({
        op: "block_replica.upsert",
        dataset: dataset.name,
        block: snapshot.blockById(id)!.name,
        site: site.name,
        group: null,
      });
    }
  }
  for (const r of result.reassignments) {
    const dataset = snapshot.datasetById(r.datasetId)!;
    const group = snapshot.groupById(r.groupId)!;
    for (const id of r.blockIds) {
      commands.push({
        op: "block_replica.upsert",
        dataset: dataset.name,
        block: snapshot.blockById(id)!.name,
        site: snapshot.siteById(r.siteId)!.name,
        group: group.name,
      });
    }
  }
  return { commands, operations };
}
