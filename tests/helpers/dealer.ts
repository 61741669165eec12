/** Small federations for Dealer tests, driven by the pure reducer. */
import { SeededRng } from "../../actors/runtime/clock.ts";
import { parseDealerConfig } from "../../policies/dealer/dealer_config.ts";
import type { CopyPlan } from "../../policies/dealer/copy_plan.ts";
import { parseCommand, type PartitionDefinition, Snapshot } from "../../registry/inventory/mod.ts";
import { ReducerHarness } from "./inventory.ts";

export const EXAMPLE_DEALER_CONFIG = Deno.readTextFileSync(
  new URL("../../examples/dealer/dealer.json", import.meta.url),
);

/** The example configuration with some fields replaced. */
export function dealerConfig(overrides: Record<string, unknown> = {}) {
  return parseDealerConfig(JSON.stringify({ ...JSON.parse(EXAMPLE_DEALER_CONFIG), ...overrides }));
}

export interface SiteSpec {
  name: string;
  /** Bytes of the Default partition. */
  quota: number;
  status?: "ready" | "morgue" | "waitroom";
  type?: "disk" | "mss";
}

export interface DatasetSpec {
  name: string;
  blocks: number;
  filesPerBlock?: number;
  fileSize: number;
  /** Sites holding a complete replica. */
  at: string[];
  group?: string;
  status?: string;
}

export const NOW = Math.floor(Date.UTC(2026, 10, 25) / 1000);

export function lfn(dataset: string, block: number, file: number): string {
  return `/store${dataset.toLowerCase()}/b${block}/f${file}.root`;
}

/** `partitions`: other definitions than the default, with the partition the quotas are set on. */
export function dealerFederation(
  sites: SiteSpec[],
  datasets: DatasetSpec[],
  partitions?: { definitions: PartitionDefinition[]; quotaOn: string },
): ReducerHarness {
  const h = new ReducerHarness(partitions?.definitions);
  h.nowMs = NOW * 1000;
  h.apply(
    ...sites.map((s) => ({
      op: "site.upsert",
      name: s.name,
      storage_type: s.type ?? "disk",
      status: s.status ?? "ready",
    })),
    { op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" },
    { op: "group.upsert", name: "DataOps", olevel: "Block" },
    ...sites.map((s) => ({
      op: "quota.set",
      site: s.name,
      partition: partitions?.quotaOn ?? "Default",
      quota: s.quota,
    })),
  );
  const cmds: Record<string, unknown>[] = [];
  for (const d of datasets) {
    cmds.push({ op: "dataset.upsert", name: d.name, status: d.status ?? "valid", last_update: NOW - 86400 });
    for (let b = 0; b < d.blocks; b++) {
      cmds.push({ op: "block.upsert", dataset: d.name, block: `b${b}` });
      cmds.push({
        op: "files.add",
        dataset: d.name,
        block: `b${b}`,
        files: Array.from(
          { length: d.filesPerBlock ?? 2 },
          (_, f) => ({ lfn: lfn(d.name, b, f), size: d.fileSize }),
        ),
      });
    }
    for (const [i, site] of d.at.entries()) {
      cmds.push({
        op: "dataset_replica.upsert",
        dataset: d.name,
        site,
        group: d.group ?? "AnalysisOps",
        growing: i > 0,
      });
      for (let b = 0; b < d.blocks; b++) {
        cmds.push({ op: "block_replica.upsert", dataset: d.name, block: `b${b}`, site });
      }
    }
  }
  if (cmds.length) h.apply(...cmds);
  return h;
}

export function snap(h: ReducerHarness): Snapshot {
  return new Snapshot(h.state);
}

/** Commits a copy plan as the Dealer agent would. */
export function applyPlan(h: ReducerHarness, plan: CopyPlan): void {
  if (plan.commands.length) h.apply(...plan.commands as unknown as Record<string, unknown>[]);
}

/** The file-operations layer finishing every transfer: incomplete replicas become complete. */
export function completeTransfers(h: ReducerHarness): void {
  const s = snap(h);
  const cmds: Record<string, unknown>[] = [];
  for (const d of s.datasets()) {
    for (const dr of s.replicasOf(d.id)) {
      for (const br of dr.blockReplicas) {
        if (br.fileIds === null) continue;
        const block = s.blockById(br.blockId)!;
        cmds.push({
          op: "block_replica.upsert",
          dataset: d.name,
          block: block.name,
          site: s.siteById(dr.siteId)!.name,
          files: [...h.files.byId.values()].filter((f) => f.blockId === block.id).map((f) => f.lfn),
        });
      }
    }
  }
  if (cmds.length) h.apply(...cmds);
}

export function rng(seed = 1) {
  return new SeededRng(seed);
}

/** Full disk copies of a dataset (every block complete). */
export function fullCopies(h: ReducerHarness, dataset: string): string[] {
  const s = snap(h);
  const d = s.dataset(dataset)!;
  return s.replicasOf(d.id)
    .filter((dr) =>
      dr.blockReplicas.length === d.blockIds.length && dr.blockReplicas.every((br) => br.fileIds === null)
    )
    .map((dr) => s.siteById(dr.siteId)!.name).sort();
}

/**
 * Commands for a small federation for the Dealer agent's tests: disk sites with 1000 GB of Default quota
 * each, and datasets of one block of one 1 GB file, replicated in full (AnalysisOps) where `replicas` says.
 */
export function oneFileFederation(sites: string[], replicas: [dataset: string, site: string][]) {
  const GB = 1e9;
  const commands: Record<string, unknown>[] = [
    { op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" },
    ...sites.flatMap((site) => [
      { op: "site.upsert", name: site, storage_type: "disk", status: "ready" },
      { op: "quota.set", site, partition: "Default", quota: 1000 * GB },
    ]),
  ];
  for (const name of new Set(replicas.map(([dataset]) => dataset))) {
    commands.push(
      { op: "dataset.upsert", name, status: "valid" },
      { op: "block.upsert", dataset: name, block: "b1" },
      {
        op: "files.add",
        dataset: name,
        block: "b1",
        files: [{ lfn: `/store${name.toLowerCase()}/f1`, size: GB }],
      },
    );
  }
  for (const [name, site] of replicas) {
    commands.push(
      { op: "dataset_replica.upsert", dataset: name, site, group: "AnalysisOps", growing: false },
      { op: "block_replica.upsert", dataset: name, block: "b1", site },
    );
  }
  return commands.map((c) => parseCommand(c));
}
