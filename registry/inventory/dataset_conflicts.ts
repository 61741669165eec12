/**
 * Which operations on one dataset may be in flight together (issue 15, docs/actors.md "Conflicting
 * operations"): a pure rule over the dataset's operations in flight and a proposed one. It lives with
 * the inventory because the writer applies it in its precondition re-check (preconditions.ts), the one
 * place every deletion passes through with the state it will apply to, without awaiting anyone.
 */
import { NULL_GROUP_ID } from "./records.ts";
import type { Snapshot } from "./snapshot.ts";

/** An operation on a dataset, in flight or proposed. Blocks and sites by name. */
export type DatasetOperation =
  | {
    readonly kind: "copy";
    readonly block: string;
    /** Destination. */
    readonly site: string;
    /** The sites holding a complete, owned copy it may read from. */
    readonly sources: readonly string[];
  }
  | {
    readonly kind: "deletion";
    readonly block: string;
    readonly site: string;
    /** Who asks: Detox's cycle or a user's deletion request. */
    readonly by: "detox" | "user";
    /** The other sites whose copy of the block the same decision deletes (they are no source either). */
    readonly alongside?: readonly string[];
  }
  | { readonly kind: "invalidation"; readonly by?: "consistency" | "user" };

export type Admission =
  | { readonly verdict: "allow" }
  /** Not now: the proposer keeps it and asks again later (a user request stays new). */
  | { readonly verdict: "wait"; readonly reason: string }
  /** Not this decision: the whole guarded submission is refused (a Detox cycle), the reason recorded. */
  | { readonly verdict: "refuse"; readonly reason: string };

const ALLOW: Admission = { verdict: "allow" };

/**
 * Whether `proposed` may start while `inFlight` are running on the same dataset. The loser of a
 * conflict is always the proposed operation: what is in flight already has files moving.
 * - A deletion of a replica that is the only source of a copy in flight (counting the other copies the
 *   same decision deletes as no source): a Detox deletion is refused
 *   (its cycle decides again on the next snapshot), a user's deletion waits for the copy.
 * - A user's deletion of a block at a site while a copy of it to that site is in flight (e.g. a Dealer
 *   copy), and a copy to a site whose block is being deleted there: the proposed one waits.
 * - A Detox deletion and an invalidation are never in flight together: the later one waits.
 */
export function admitOperation(
  dataset: string,
  inFlight: readonly DatasetOperation[],
  proposed: DatasetOperation,
): Admission {
  const where = (block: string) => JSON.stringify(`${dataset}#${block}`);
  for (const op of inFlight) {
    if (proposed.kind === "deletion" && op.kind === "copy" && op.block === proposed.block) {
      const gone = new Set([proposed.site, ...proposed.alongside ?? []]);
      if (op.sources.includes(proposed.site) && op.sources.every((source) => gone.has(source))) {
        const others = op.sources.filter((source) => source !== proposed.site);
        const reason =
          `the copy of ${where(op.block)} at ${JSON.stringify(proposed.site)} is the only source ` +
          (others.length > 0
            ? `(with ${others.map((o) => JSON.stringify(o)).join(", ")}, deleted alongside) `
            : "") +
          `of the copy to ${JSON.stringify(op.site)} in flight`;
        return proposed.by === "detox" ? { verdict: "refuse", reason } : { verdict: "wait", reason };
      }
      if (op.site === proposed.site && proposed.by === "user") {
        return {
          verdict: "wait",
          reason: `a copy of ${where(op.block)} to ${JSON.stringify(op.site)} is in flight`,
        };
      }
    }
    if (
      proposed.kind === "copy" && op.kind === "deletion" && op.block === proposed.block &&
      op.site === proposed.site
    ) {
      return {
        verdict: "wait",
        reason: `the copy of ${where(op.block)} at ${JSON.stringify(op.site)} is being deleted`,
      };
    }
    if (proposed.kind === "invalidation" && op.kind === "deletion" && op.by === "detox") {
      return { verdict: "wait", reason: `a Detox deletion of ${where(op.block)} is in flight` };
    }
    if (proposed.kind === "deletion" && proposed.by === "detox" && op.kind === "invalidation") {
      return { verdict: "wait", reason: `an invalidation of ${JSON.stringify(dataset)} is in flight` };
    }
  }
  return ALLOW;
}

/**
 * The copies and deletions of a dataset in flight as the inventory shows them: an incomplete block
 * replica owned by a group is a copy being made (its sources: the complete, owned copies at other
 * sites); a block replica of the null group is being deleted (by whom is not recorded: "detox", the
 * stricter for invalidations). Invalidations are not in the inventory; the caller adds them.
 */
export function operationsInFlight(snapshot: Snapshot, datasetName: string): DatasetOperation[] {
  const dataset = snapshot.dataset(datasetName);
  if (!dataset) return [];
  const out: DatasetOperation[] = [];
  for (const blockId of dataset.blockIds) {
    const block = snapshot.blockById(blockId);
    if (!block) continue;
    const replicas = snapshot.blockReplicasOf(block);
    const complete = replicas.filter((br) => br.fileIds === null && br.groupId !== NULL_GROUP_ID);
    for (const br of replicas) {
      const site = snapshot.siteById(br.siteId)!.name;
      if (br.groupId === NULL_GROUP_ID) {
        out.push({ kind: "deletion", block: block.name, site, by: "detox" });
      } else if (br.fileIds !== null) {
        const sources = complete.filter((c) => c.siteId !== br.siteId).map((c) =>
          snapshot.siteById(c.siteId)!.name
        );
        out.push({ kind: "copy", block: block.name, site, sources });
      }
    }
  }
  return out;
}
