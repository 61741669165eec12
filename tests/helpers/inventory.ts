import {
  DEFAULT_PARTITIONS,
  emptyState,
  fileNeeds,
  type InventoryCommand,
  type InventoryState,
  parseCommand,
  type PartitionDefinition,
  PartitionTable,
  reduceBatch,
  type Submission,
} from "../../registry/inventory/mod.ts";
import { MemoryFiles } from "./memory_files.ts";

export const T0 = Date.UTC(2026, 0, 1);

/** An inventory driven by the pure reducer with an in-memory files table. */
export class ReducerHarness {
  state: InventoryState;
  readonly files = new MemoryFiles();
  nowMs = T0;

  constructor(partitions: readonly PartitionDefinition[] = DEFAULT_PARTITIONS) {
    this.state = emptyState(new PartitionTable(partitions));
  }

  /** Applies submissions as one batch; returns the batch result. */
  batch(submissions: Submission[]) {
    const all = submissions.flatMap((s) => s.commands);
    const catalog = this.files.prefetched(fileNeeds(this.state, all));
    const result = reduceBatch(this.state, submissions, catalog, this.nowMs, this.state.generation + 1);
    this.files.apply(result.changes);
    this.state = result.state;
    return result;
  }

  /** Applies commands (parsed from plain objects) and fails loudly on any rejection. */
  apply(...raw: Record<string, unknown>[]): InventoryState {
    const commands = raw.map((r) => parseCommand(r));
    const result = this.batch([{ commands }]);
    const rejected = result.outcomes.flat().find((o) => o.status !== "applied");
    if (rejected) throw new Error(`Unexpected outcome: ${JSON.stringify(rejected)}`);
    return this.state;
  }

  /** Applies one command and returns its outcome. */
  try(raw: Record<string, unknown>) {
    return this.batch([{ commands: [parseCommand(raw) as InventoryCommand] }]).outcomes[0]![0]!;
  }
}

/** A small federation: two disk sites, one tape site, one group. */
export function basicFederation(h: ReducerHarness): void {
  h.apply(
    { op: "site.upsert", name: "T2_A", storage_type: "disk", status: "ready" },
    { op: "site.upsert", name: "T2_B", storage_type: "disk", status: "ready" },
    { op: "site.upsert", name: "T1_TAPE", storage_type: "mss", status: "ready" },
    { op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" },
    { op: "quota.set", site: "T2_A", partition: "Default", quota: 1000 },
    { op: "quota.set", site: "T2_B", partition: "Default", quota: 2000 },
  );
}
