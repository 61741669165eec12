/**
 * The Detox tests' federation: two sites at 96 % of a 1000-byte Analysis
 * quota, six one-file datasets of which /S/one and /S/two are at both sites
 * (so one copy of each may go), everything last updated a day before `nowMs`.
 */
import { type InventoryCommand, parseCommand } from "../../registry/inventory/mod.ts";

export function analysisFederation(nowMs: number): InventoryCommand[] {
  const commands: Record<string, unknown>[] = [
    { op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" },
    { op: "site.upsert", name: "T2_A", storage_type: "disk", status: "ready" },
    { op: "site.upsert", name: "T2_B", storage_type: "disk", status: "ready" },
    { op: "quota.set", site: "T2_A", partition: "Analysis", quota: 1000 },
    { op: "quota.set", site: "T2_B", partition: "Analysis", quota: 1000 },
  ];
  const place: Record<string, string[]> = {
    "/S/one/AOD": ["T2_A", "T2_B"],
    "/S/two/AOD": ["T2_A", "T2_B"],
    "/A/three/AOD": ["T2_A"],
    "/A/four/AOD": ["T2_A"],
    "/B/five/AOD": ["T2_B"],
    "/B/six/AOD": ["T2_B"],
  };
  const dayBefore = nowMs / 1000 - 86400;
  for (const [name, sites] of Object.entries(place)) {
    commands.push(
      { op: "dataset.upsert", name, status: "valid", last_update: dayBefore },
      { op: "block.upsert", dataset: name, block: "b1" },
      { op: "files.add", dataset: name, block: "b1", files: [{ lfn: `${name}/f1`, size: 240 }] },
    );
    for (const site of sites) {
      commands.push(
        { op: "dataset_replica.upsert", dataset: name, site, group: "AnalysisOps", growing: false },
        { op: "block_replica.upsert", dataset: name, block: "b1", site, last_update: dayBefore },
      );
    }
  }
  return commands.map((c) => parseCommand(c));
}
