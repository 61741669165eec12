/**
 * What committing Dealer copies means (spec §4.2 step 8): per copy, the
 * dataset replica at the destination (growing for a whole-dataset copy), an
 * empty block replica for every block to transfer — its full size counts in
 * the projected usage at once — and the owner change of blocks already there;
 * plus one copy operation per (site, dataset) for the file-operations layer.
 */
import type { InventoryCommand, Snapshot } from "../../registry/inventory/mod.ts";
import type { DealerCopy } from "./proposal.ts";

export interface CopyOperation {
  readonly siteId: number;
  readonly datasetId: number;
  /** null: every block of the dataset. */
  readonly blockIds: readonly number[] | null;
  readonly bytes: number;
  readonly requestIds: readonly number[];
}

export interface CopyPlan {
  readonly commands: InventoryCommand[];
  readonly operations: CopyOperation[];
}

export function copyPlan(snapshot: Snapshot, copies: readonly DealerCopy[]): CopyPlan {
  const commands: InventoryCommand[] = [];
  const operations: CopyOperation[] = [];
  for (const c of copies) {
    const dataset = snapshot.datasetById(c.datasetId)!;
    const site = snapshot.siteById(c.siteId)!.name;
    const group = snapshot.groupById(c.groupId)!.name;
    const existing = snapshot.replica(c.datasetId, c.siteId);
    if (!existing || c.whole) {
      commands.push({
        op: "dataset_replica.upsert",
        dataset: dataset.name,
        site,
        group,
        ...(c.whole ? { growing: true } : existing ? {} : { growing: false }),
      });
    }
    for (const id of c.newBlockIds) {
      commands.push({
        op: "block_replica.upsert",
        dataset: dataset.name,
        block: snapshot.blockById(id)!.name,
        site,
        group,
        files: [],
      });
    }
    for (const id of c.flipBlockIds) {
      commands.push({
        op: "block_replica.upsert",
        dataset: dataset.name,
        block: snapshot.blockById(id)!.name,
        site,
        group,
      });
    }
    if (c.newBlockIds.length > 0) {
      const all = c.whole && c.newBlockIds.length === dataset.blockIds.length;
      operations.push({
        siteId: c.siteId,
        datasetId: c.datasetId,
        blockIds: all ? null : c.newBlockIds,
        bytes: c.bytes,
        requestIds: c.requestIds,
      });
    }
  }
  return { commands, operations };
}
