import type { InventoryCommand } from "./commands.ts";
import type { FileNeeds } from "./file_catalog.ts";
import type { InventoryState } from "./state.ts";

/**
 * What must be read from the files table before a batch can be reduced: every
 * LFN the commands mention, and the file lists of existing blocks that gain
 * files (their complete replicas may have to list the old files explicitly) or
 * lose some.
 */
export function fileNeeds(state: InventoryState, commands: Iterable<InventoryCommand>): FileNeeds {
  const needs: FileNeeds = { lfns: new Set(), blockIds: new Set() };
  for (const cmd of commands) {
    switch (cmd.op) {
      case "files.add": {
        for (const f of cmd.files) needs.lfns.add(f.lfn);
        const datasetId = state.names.datasets.get(cmd.dataset);
        const blockId = datasetId === undefined ? undefined : state.names.blocks.lookup(datasetId, cmd.block);
        if (blockId !== undefined && state.blocks.has(blockId)) needs.blockIds.add(blockId);
        break;
      }
      case "files.delete": {
        for (const lfn of cmd.lfns) needs.lfns.add(lfn);
        // Deleting takes the files out of their block's list, which must be known.
        const datasetId = state.names.datasets.get(cmd.dataset);
        const blockId = datasetId === undefined ? undefined : state.names.blocks.lookup(datasetId, cmd.block);
        if (blockId !== undefined && state.blocks.has(blockId)) needs.blockIds.add(blockId);
        break;
      }
      case "block_replica.upsert":
        for (const lfn of cmd.files ?? []) needs.lfns.add(lfn);
        break;
      default:
        break;
    }
  }
  return needs;
}
