import { SeededRng } from "../../actors/runtime/clock.ts";
import { parsePartitions } from "../../policies/partitions.ts";
import type { DatasetAttributes } from "../../policies/language/mod.ts";
import { NO_ATTRIBUTES } from "../../policies/language/mod.ts";
import { ReducerHarness } from "./inventory.ts";

export const TEST_PARTITIONS = `
# Our own partitions for tests, in the CMS style.
AnalysisOps: blockreplica.owner == AnalysisOps and site.storage_type == DISK
DataOps:     blockreplica.owner == DataOps and site.storage_type == DISK
Tape:        site.storage_type == MSS
Physics:     [AnalysisOps, DataOps, Tape]
`;

export interface FederationOptions {
  seed: number;
  sites?: number;
  datasets?: number;
  blocksPerDataset?: number;
  /** Bytes of quota per disk site. */
  quota?: number;
}

/**
 * A random federation: disk sites (some filled beyond 90 %), one tape site,
 * datasets with 1–3 replicas owned by AnalysisOps or DataOps, some replicas
 * partial or incomplete.
 */
export function randomFederation(
  o: FederationOptions,
): { h: ReducerHarness; attrs: DatasetAttributes; rank: Map<number, number> } {
  const rng = new SeededRng(o.seed);
  const h = new ReducerHarness(parsePartitions(TEST_PARTITIONS));
  const nSites = o.sites ?? 5;
  const quota = o.quota ?? 10_000;
  const sites = Array.from({ length: nSites }, (_, i) => `T2_S${i}`);
  h.apply(
    ...sites.map((name) => ({ op: "site.upsert", name, storage_type: "disk", status: "ready" })),
    { op: "site.upsert", name: "T1_TAPE", storage_type: "mss", status: "ready" },
    { op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" },
    { op: "group.upsert", name: "DataOps", olevel: "Block" },
    ...sites.map((site) => ({ op: "quota.set", site, partition: "AnalysisOps", quota })),
    ...sites.map((site) => ({ op: "quota.set", site, partition: "DataOps", quota: quota / 5 })),
    { op: "quota.set", site: "T1_TAPE", partition: "Tape", quota: 1_000_000_000 },
  );
  const nDatasets = o.datasets ?? 40;
  const nBlocks = o.blocksPerDataset ?? 3;
  let file = 0;
  const cmds: Record<string, unknown>[] = [];
  for (let d = 0; d < nDatasets; d++) {
    const name = `/Prim${d}/Proc-v${d % 3}/${["AOD", "MINIAOD", "RAW"][d % 3]}`;
    cmds.push({
      op: "dataset.upsert",
      name,
      status: "valid",
      last_update: 1_700_000_000 + rng.int(10_000_000),
    });
    for (let b = 0; b < nBlocks; b++) {
      cmds.push({ op: "block.upsert", dataset: name, block: `b${b}` });
      cmds.push({
        op: "files.add",
        dataset: name,
        block: `b${b}`,
        files: Array.from({ length: 2 }, () => ({ lfn: `/store/f${file++}`, size: 50 + rng.int(400) })),
      });
    }
    // Every fourth dataset crowds onto the first sites, so that they fill up.
    const range = Math.max(1, Math.ceil(nSites * (d % 4 === 0 ? 0.4 : 1)));
    const copies = Math.min(range, 1 + rng.int(3));
    const chosen = new Set<string>();
    while (chosen.size < copies) chosen.add(sites[rng.int(range)]!);
    if (rng.int(5) === 0) chosen.add("T1_TAPE");
    let first = true;
    for (const site of chosen) {
      const group = rng.int(4) === 0 ? "DataOps" : "AnalysisOps";
      cmds.push({
        op: "dataset_replica.upsert",
        dataset: name,
        site,
        group,
        growing: first ? false : rng.int(2) === 0,
      });
      first = false;
      const blocks = rng.int(6) === 0 ? nBlocks - 1 : nBlocks;
      for (let b = 0; b < blocks; b++) {
        const incomplete = rng.int(12) === 0;
        cmds.push({
          op: "block_replica.upsert",
          dataset: name,
          block: `b${b}`,
          site,
          group: b === 0 && rng.int(4) === 0 ? "DataOps" : group,
          last_update: 1_700_000_000 + rng.int(10_000_000),
          ...(incomplete ? { files: [] } : {}),
        });
      }
    }
  }
  h.apply(...cmds);
  const rank = new Map<number, number>();
  for (const d of h.state.datasets.values()) rank.set(d.id, rng.int(400));
  const attrs: DatasetAttributes = { ...NO_ATTRIBUTES, usageRank: (id) => rank.get(id) ?? 0 };
  return { h, attrs, rank };
}
