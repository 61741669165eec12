import type { JournalEntry } from "../../registry/inventory/mod.ts";

/** Messages between the main thread and a reader-replica Worker. */
export type ToReplica =
  | { type: "init"; partitionsModule: string | null }
  | { type: "entries"; entries: JournalEntry[] }
  | { type: "query"; id: number; query: ReplicaQuery };

export type ReplicaQuery =
  | { kind: "generation" }
  | { kind: "digest" }
  | { kind: "dataset"; name: string };

export type FromReplica =
  | { type: "ready" }
  | { type: "applied"; seq: number }
  | { type: "answer"; id: number; result: unknown }
  | { type: "error"; message: string };
