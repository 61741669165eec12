import { SeededRng } from "../actors/runtime/clock.ts";
import { parseDetoxPolicy } from "../policies/detox/detox_policy.ts";
import { datasetName, type Scale } from "./generate.ts";

/**
 * A Detox policy of our own in the style of CMS's Physics.txt (same kinds of
 * lines, same order of concerns), for the benchmark inventory's partitions.
 */
export const PHYSICS_POLICY = `Partition Physics
On site.name in [T*_MSS T1_*_Disk T2_*]
When site.occupancy > 0.9
When site.status == MORGUE
Until site.status != MORGUE and site.occupancy < 0.85

Ignore site.name == T*_MSS
ProtectBlock blockreplica.is_locked
Delete dataset.status == DEPRECATED and dataset.last_update older_than 1 week ago
Delete dataset.status == INVALID and dataset.last_update older_than 1 week ago
Protect replica.enforcer_protected
Protect dataset.unhandled_copy_exists
ProtectBlock dataset.on_tape == PARTIAL and not blockreplica.on_tape
ProtectBlock blockreplica.is_last_transfer_source
Protect dataset.name == /*/*/RAW and dataset.on_tape != FULL
Protect dataset.name == /*/*/NANOAOD*
DismissBlock dataset.name == /*/*/RECO and dataset.last_update older_than 90 days ago and blockreplica.owner == DataOps
ProtectBlock dataset.on_tape == NONE and blockreplica.owner == DataOps
DeleteBlock blockreplica.owner == DataOps
Protect replica.incomplete
DismissBlock dataset.name == /*/*/RAW and blockreplica.last_update older_than 60 days ago
Protect dataset.on_protected_site and replica.num_full_other_copy_common_owner < 1
Dismiss dataset.usage_rank > 100 and dataset.name != /*/*/MINIAOD*
Dismiss dataset.last_update older_than 150 days ago and replica.last_block_created older_than 30 days ago and replica.num_access == 0 and dataset.name != /*/*/MINIAOD*
Dismiss dataset.usage_rank > 200
Protect dataset.on_tape != FULL and replica.num_full_other_copy_common_owner < 2
Protect dataset.name == /*/*/MINIAOD* and replica.num_full_other_copy_common_owner < 2
Protect replica.num_full_other_copy_common_owner == 0 and dataset.name == /*/*/RAW
Dismiss
Order decreasing dataset.usage_rank increasing replica.size
`;

/**
 * A bench Detox cycle's inputs (bench.ts and detox_cycle.ts run the same cycle): the policy
 * parsed at a fixed now, and accesses to half the datasets over the last 600 days, drawn
 * from the seed.
 */
export function physicsCycleInputs(scale: Scale, seed: number) {
  const nowMs = Date.UTC(2026, 10, 25);
  const rng = new SeededRng(seed + 3);
  const accesses = Array.from({ length: Math.round(scale.datasets / 2) }, () => ({
    dataset: datasetName(1 + rng.int(scale.datasets)),
    site: "any",
    day: nowMs / 1000 - 86400 * (1 + rng.int(600)),
    accesses: rng.int(2000),
  }));
  const policy = parseDetoxPolicy(PHYSICS_POLICY, { nowMs, file: "physics" });
  return { nowMs, accesses, policy };
}
