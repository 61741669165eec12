/**
 * The dataset actor's decisions about landed files (pure): which block
 * replicas a set of landed copies makes complete. The reducer is the judge of
 * completeness (a block replica holding every file of its block becomes
 * complete); this only picks the moment to ask it, so that an extra command
 * is harmless and a missing one is made up by the updater's pass.
 */
import type { InventoryCommand, Snapshot } from "../../registry/inventory/mod.ts";

/** Copies landed at one site for one block and not yet in the inventory. */
export interface LandedFiles {
  site: string;
  block: string;
  lfns: Set<string>;
}

export interface LandingDecision {
  /** `block_replica.upsert` commands that should complete their block replica. */
  commands: InventoryCommand[];
  /** Keys of `landed` that are settled (committed now, already complete, or gone) and can be forgotten. */
  settled: string[];
}

export function landedKey(site: string, block: string): string {
  return JSON.stringify([site, block]);
}

export function completions(
  snapshot: Snapshot,
  dataset: string,
  landed: ReadonlyMap<string, LandedFiles>,
): LandingDecision {
  const commands: InventoryCommand[] = [];
  const settled: string[] = [];
  const d = snapshot.dataset(dataset);
  for (const [key, l] of landed) {
    const site = snapshot.site(l.site);
    const block = d ? snapshot.block(d.id, l.block) : undefined;
    const dr = d && site ? snapshot.replica(d.id, site.id) : undefined;
    const br = dr && block ? snapshot.blockReplica(dr, block.id) : undefined;
    if (!br || br.fileIds === null) {
      settled.push(key); // gone, or complete already: nothing to add
      continue;
    }
    // Files landed may already be counted in the replica (the updater ran): then this over-counts,
    // which only means asking the reducer early; it completes the replica only with every file.
    if (br.fileIds.length + l.lfns.size < block!.numFiles) continue;
    commands.push({ op: "block_replica.upsert", dataset, block: l.block, site: l.site, files: [...l.lfns] });
    settled.push(key);
  }
  return { commands, settled };
}
