/** What Dealer plugins propose and what the Dealer decides (spec §4.2). */

export interface DealerProposal {
  /** The plugin's configured name (`requests`, `popularity`, …). */
  readonly plugin: string;
  readonly datasetId: number;
  /** Blocks of the dataset to copy; null = the whole dataset (the replica then grows). */
  readonly blockIds: readonly number[] | null;
  /** A site id, or null to let the Dealer choose. */
  readonly destination: number | null;
  /** Owner of the copy; null = the Dealer's default group. */
  readonly group: string | null;
  /** The copy request this serves, if any. */
  readonly requestId?: number;
  /** Why the plugin wants it, in words (recorded with the decision). */
  readonly why: string;
}

export type RejectReason =
  | "Dataset not found"
  | "Dataset is not valid"
  | "Unknown group"
  | "No replica anywhere"
  | "Source files missing"
  | "Not a target site"
  | "Not in the partition"
  | "Replica exists"
  | "Copy in progress"
  | "Destination is full"
  | "No destination available"
  | "Cycle volume limit reached"
  /** A block of the copy is being deleted at the destination (docs/actors.md, conflicting operations). */
  | "Conflicting operation in flight";

export interface DealerDecision {
  readonly proposal: DealerProposal;
  readonly accepted: boolean;
  /** Why it was rejected; empty when accepted. */
  readonly reason: RejectReason | "";
  /** What exactly, when the reason alone does not say (the conflict, by dataset, block and site). */
  readonly detail?: string;
  /** The destination chosen or checked (null when none). */
  readonly siteId: number | null;
  /** Bytes this adds to the destination's projected usage (0 for an ownership change). */
  readonly bytes: number;
}

/** One new or changed replica after merging overlapping proposals (one per site and dataset). */
export interface DealerCopy {
  readonly siteId: number;
  readonly datasetId: number;
  /** Blocks to add at the site (no replica there yet). */
  readonly newBlockIds: readonly number[];
  /** Blocks already at the site whose owner changes to `groupId`. */
  readonly flipBlockIds: readonly number[];
  /** Whole-dataset copy: the replica grows with the dataset. */
  readonly whole: boolean;
  readonly groupId: number;
  /** The winning (most urgent) plugin, and every plugin and request that asked. */
  readonly plugin: string;
  readonly plugins: readonly string[];
  readonly requestIds: readonly number[];
  readonly bytes: number;
}

/** The reason of a decision as recorded and told to a request: with its detail when it has one. */
export function decisionReason(d: DealerDecision): string {
  return d.detail ? `${d.reason}: ${d.detail}` : d.reason;
}
