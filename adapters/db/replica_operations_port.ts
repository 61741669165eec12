/**
 * Replica operations: the copies and deletions Detox, the Dealer and user
 * requests decided, for the file-operations layer to carry out. They are
 * written in the same transaction as the inventory change that announces
 * them, so each exists exactly when its inventory change is durable.
 */
export interface NewReplicaOperation {
  kind: "copy" | "deletion";
  /** The Detox (deletion) or Dealer (copy) cycle that decided it; null for a user request. */
  cycleId: number | null;
  /** The copy or deletion request it serves, if any. */
  requestId: number | null;
  site: string;
  dataset: string;
  /** Block names; null = the whole dataset replica. */
  blocks: string[] | null;
  /** Bytes to copy or to free. */
  size: number;
}
