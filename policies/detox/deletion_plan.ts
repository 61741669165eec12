/**
 * What committing a Detox result means (spec §3.4, §3.6): per site, each
 * deleted dataset replica becomes a deletion operation (the whole replica when
 * every block replica goes, otherwise the list of blocks) and its block
 * replicas pass to the null group ("being deleted"); a whole replica also
 * stops growing. Block replicas handed over change owner. The replicas leave
 * the inventory later, when the file operations have removed the files.
 */
import {
  type DeletionOperation,
  type InventoryCommand,
  replicaDeletion,
  type Snapshot,
} from "../../registry/inventory/mod.ts";
import type { DetoxResult } from "./detox_engine.ts";

export type { DeletionOperation };

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
    const deletion = replicaDeletion(snapshot, d.siteId, d.datasetId, d.blockIds, d.size);
    if (!deletion) continue; // gone since the snapshot (cannot happen within one writer batch)
    commands.push(...deletion.commands);
    operations.push(deletion.operation);
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
