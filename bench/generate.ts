/** Partitions in the CMS style for the benchmark inventory. */
export const BENCH_PARTITIONS = `
AnalysisOps: blockreplica.owner == AnalysisOps and site.storage_type == DISK
DataOps:     blockreplica.owner == DataOps and site.storage_type == DISK
RelVal:      blockreplica.owner == RelVal and site.storage_type == DISK
local:       blockreplica.owner == local and site.storage_type == DISK
Tape:        site.storage_type == MSS
Physics:     [AnalysisOps, DataOps, Tape]
`;

/**
 * A deterministic inventory at a given scale, written straight into the
 * tables with COPY (the benchmark's set-up, not a measured figure).
 */
import { SeededRng } from "../actors/runtime/clock.ts";
import type { Cell, Database } from "../adapters/db/database.ts";

export interface Scale {
  name: string;
  sites: number;
  tapeSites: number;
  datasets: number;
  blocksPerDataset: number;
  replicasPerDataset: number;
}

export const SCALES: Record<string, Scale> = {
  small: {
    name: "small",
    sites: 20,
    tapeSites: 2,
    datasets: 5_000,
    blocksPerDataset: 10,
    replicasPerDataset: 3,
  },
  medium: {
    name: "medium",
    sites: 50,
    tapeSites: 4,
    datasets: 25_000,
    blocksPerDataset: 10,
    replicasPerDataset: 3,
  },
  cms: {
    name: "cms",
    sites: 100,
    tapeSites: 7,
    datasets: 100_000,
    blocksPerDataset: 10,
    replicasPerDataset: 3,
  },
  /** Ten times CMS (issue 20): ≈ 44 M objects, meant for PostgreSQL (`--database-url`). */
  atlas: {
    name: "atlas",
    sites: 1_000,
    tapeSites: 20,
    datasets: 1_000_000,
    blocksPerDataset: 10,
    replicasPerDataset: 3,
  },
};

export interface GeneratedCounts {
  sites: number;
  groups: number;
  datasets: number;
  blocks: number;
  datasetReplicas: number;
  blockReplicas: number;
}

const GROUPS = ["AnalysisOps", "DataOps", "RelVal", "local"];
const TIERS = ["RAW", "RECO", "AOD", "MINIAOD", "NANOAOD", "GEN-SIM"];

export function siteName(i: number, scale: Scale): string {
  if (i < scale.tapeSites) return `T1_C${i}_MSS`;
  if (i < scale.tapeSites * 2) return `T1_C${i - scale.tapeSites}_Disk`;
  return `T2_C${i % 20}_Site${i}`;
}

export function datasetName(i: number): string {
  return `/Primary${i % 997}/Campaign${i % 31}-Processed${i}-v${1 + (i % 3)}/${TIERS[i % TIERS.length]}`;
}

/** Writes the whole inventory; returns what it wrote. */
export async function generateInventory(db: Database, scale: Scale, seed: number): Promise<GeneratedCounts> {
  const rng = new SeededRng(seed);
  const t0 = 1_600_000_000;
  await db.copyFrom(
    "groups",
    ["id", "name", "olevel"],
    GROUPS.map((g, i) => [i + 1, g, i === 0 ? "Dataset" : "Block"]),
  );
  const siteRows: Cell[][] = [];
  for (let i = 0; i < scale.sites; i++) {
    siteRows.push([
      i + 1,
      siteName(i, scale),
      `se${i}.example.org`,
      i < scale.tapeSites ? "mss" : "disk",
      "",
      "ready",
      "{}",
    ]);
  }
  await db.copyFrom(
    "sites",
    ["id", "name", "host", "storage_type", "backend", "status", "filename_mappings"],
    siteRows,
  );
  const partitionId = (await db.queryArrays("SELECT id FROM partitions WHERE name = 'Default'"))[0]?.[0] as
    | number
    | undefined;
  if (partitionId !== undefined) {
    await db.copyFrom(
      "quotas",
      ["site_id", "partition_id", "quota"],
      siteRows.map((s) => [s[0] as number, partitionId, 2_000_000_000_000_000]),
    );
  }

  // Block sizes are drawn once and reused by replicas (complete replicas hold the full block).
  const blocks = scale.datasets * scale.blocksPerDataset;
  const blockSize = new Float64Array(blocks + 1);
  const blockFiles = new Int32Array(blocks + 1);
  await db.copyFrom(
    "datasets",
    ["id", "name", "status", "data_type", "software_version", "last_update", "is_open"],
    (function* () {
      for (let d = 1; d <= scale.datasets; d++) {
        yield [
          d,
          datasetName(d),
          d % 50 === 0 ? "deprecated" : "valid",
          "production",
          `CMSSW_10_${d % 7}_0`,
          t0 + d,
          false,
        ];
      }
    })(),
  );
  await db.copyFrom(
    "blocks",
    ["id", "dataset_id", "name", "size", "num_files", "is_open", "last_update"],
    (function* () {
      for (let b = 1; b <= blocks; b++) {
        const files = 1 + rng.int(200);
        const size = files * (500_000_000 + rng.int(3_500_000_000));
        blockSize[b] = size;
        blockFiles[b] = files;
        yield [b, Math.ceil(b / scale.blocksPerDataset), uuidLike(rng), size, files, false, t0 + b];
      }
    })(),
  );
  const replicaSites: number[][] = [];
  for (let d = 1; d <= scale.datasets; d++) {
    const chosen = new Set<number>();
    while (chosen.size < Math.min(scale.replicasPerDataset, scale.sites)) {
      chosen.add(1 + rng.int(scale.sites));
    }
    replicaSites.push([...chosen].sort((a, b) => a - b));
  }
  await db.copyFrom(
    "dataset_replicas",
    ["dataset_id", "site_id", "growing", "group_id"],
    (function* () {
      for (let d = 1; d <= scale.datasets; d++) {
        for (const s of replicaSites[d - 1]!) yield [d, s, false, 1 + ((d + s) % GROUPS.length)];
      }
    })(),
  );
  let blockReplicas = 0;
  // Bytes per (site, group) to size the quotas afterwards.
  const usage = new Map<string, number>();
  await db.copyFrom(
    "block_replicas",
    ["block_id", "site_id", "group_id", "is_custodial", "size", "last_update", "file_ids"],
    (function* () {
      for (let b = 1; b <= blocks; b++) {
        const d = Math.ceil(b / scale.blocksPerDataset);
        for (const s of replicaSites[d - 1]!) {
          blockReplicas += 1;
          // One replica in a hundred is incomplete, with an explicit file list.
          const incomplete = blockReplicas % 100 === 0;
          const fileIds = incomplete ? JSON.stringify([b * 1000, b * 1000 + 1]) : null;
          const size = incomplete ? Math.floor(blockSize[b]! / blockFiles[b]!) * 2 : blockSize[b]!;
          const group = 1 + ((d + s) % GROUPS.length);
          usage.set(`${s}:${group}`, (usage.get(`${s}:${group}`) ?? 0) + size);
          yield [b, s, group, s <= scale.tapeSites, size, t0 + b, fileIds];
        }
      }
    })(),
  );
  // Quotas: each group's partition at a disk site is 80–98 % full (half the sites above the
  // 90 % watermark), as in production; tape partitions are half full.
  const partitionIds = new Map(
    (await db.queryArrays("SELECT name, id FROM partitions")).map((
      [name, id],
    ) => [name as string, id as number]),
  );
  const quotaRows: Cell[][] = [];
  for (let s = 1; s <= scale.sites; s++) {
    for (const [g, name] of GROUPS.entries()) {
      const used = usage.get(`${s}:${g + 1}`) ?? 0;
      const partition = s <= scale.tapeSites ? (g === 0 ? "Tape" : null) : name;
      const id = partition ? partitionIds.get(partition) : undefined;
      if (id === undefined) continue;
      const total = s <= scale.tapeSites
        ? GROUPS.reduce((t, _, i) => t + (usage.get(`${s}:${i + 1}`) ?? 0), 0)
        : used;
      const fill = s <= scale.tapeSites ? 0.5 : 0.8 + rng.next() * 0.18;
      quotaRows.push([s, id, Math.max(1, Math.round(total / fill))]);
    }
  }
  await db.copyFrom("quotas", ["site_id", "partition_id", "quota"], quotaRows);
  await db.exec(
    `UPDATE inventory_meta SET next_dataset_id = ${scale.datasets + 1}, next_block_id = ${blocks + 1},
     next_site_id = ${scale.sites + 1}, next_group_id = ${GROUPS.length + 1}, next_file_id = ${
      (blocks + 1) * 1000
    }`,
  );
  return {
    sites: scale.sites,
    groups: GROUPS.length + 1,
    datasets: scale.datasets,
    blocks,
    datasetReplicas: scale.datasets * Math.min(scale.replicasPerDataset, scale.sites),
    blockReplicas,
  };
}

function uuidLike(rng: SeededRng): string {
  let s = "";
  for (let i = 0; i < 32; i++) s += "0123456789abcdef"[rng.int(16)];
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
