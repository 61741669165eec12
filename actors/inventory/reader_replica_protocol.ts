import type { Counters, JournalEntry, StateRow } from "../../registry/inventory/mod.ts";
import type { DetoxPolicyRun, DetoxRegistryInputs } from "../../policies/detox/detox_decision.ts";
import type { DealerRegistryInputs } from "../../policies/dealer/dealer_decision.ts";
import type { DealerConfig } from "../../policies/dealer/dealer_config.ts";
import type { HeavyRead } from "../../registry/inventory/reads/heavy_read.ts";

/** Messages between the main thread and a reader-replica Worker. */
export type ToReplica =
  | {
    type: "init";
    /** URL of a module exporting `partitions` (tests); wins over `partitions`. */
    partitionsModule: string | null;
    /** `[name, definition text]` of each configured partition (parsed again in the Worker); null: Default. */
    partitions?: readonly (readonly [string, string])[] | null;
  }
  /** The start of a build: the persistent partition ids the rows refer to. */
  | { type: "load_begin"; partitionIds: readonly (readonly [string, number])[] }
  /** A slice of the rows of the snapshot being built from; answered by `rows_loaded`. */
  | { type: "rows"; rows: readonly TableRow[] }
  | { type: "load_end"; generation: number; counters: Counters }
  | { type: "entries"; entries: JournalEntry[] }
  | { type: "query"; id: number; query: ReplicaQuery };

/** One stored row, as the loader method that takes it and its arguments. */
export type TableRow = StateRow;

export type ReplicaQuery =
  | { kind: "generation" }
  | { kind: "digest" }
  | { kind: "dataset"; name: string }
  /** A heavy read of the registry (statistics, large listings); its answer is the route's JSON. */
  | { kind: "read"; read: HeavyRead; budgetMs: number }
  | {
    kind: "detox";
    run: DetoxPolicyRun;
    inputs: DetoxRegistryInputs;
    enforcer: { text: string; file: string; nowMs: number } | null;
    budgetMs: number;
  }
  /** A Dealer cycle; its random source is a `SeededRng` of `seed`. */
  | {
    kind: "dealer";
    config: DealerConfig;
    inputs: DealerRegistryInputs;
    enforcer: { text: string; file: string; nowMs: number } | null;
    seed: number;
    budgetMs: number;
  }
  /** The next page of the rows a Detox or Dealer decision left behind (`decisionsKey`); they are dropped once taken. */
  | { kind: "decision_rows"; key: number; limit: number };

export type FromReplica =
  | { type: "ready" }
  /** One `rows` message is loaded (the main thread keeps few of them waiting). */
  | { type: "rows_loaded" }
  /** `atMs`: when it was applied, on the shared wall clock (`performance.timeOrigin + performance.now()`). */
  | { type: "applied"; seq: number; atMs?: number }
  | { type: "answer"; id: number; result: unknown }
  /** A query failed (the replica itself is fine). */
  | { type: "failed"; id: number; message: string }
  | { type: "error"; message: string };
