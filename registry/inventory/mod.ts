/** The inventory model: records, commands, the pure reducer and snapshots. Imports nothing else of ours. */
export * from "./enums.ts";
export * from "./records.ts";
export * from "./errors.ts";
export * from "./names.ts";
export * from "./commands.ts";
export * from "./partitions.ts";
export * from "./file_catalog.ts";
export * from "./state.ts";
export { indexOfBlock, type InventoryChanges, pairKey, pairOf, StateBuilder } from "./state_builder.ts";
export { applyCommand } from "./reducer.ts";
export * from "./reduce_batch.ts";
export * from "./snapshot.ts";
export * from "./digest.ts";
export * from "./injection.ts";
export { fileNeeds } from "./file_needs.ts";
export { InventoryLoader } from "./bulk_loader.ts";
export * from "./journal.ts";
export * from "./outcome_summary.ts";
