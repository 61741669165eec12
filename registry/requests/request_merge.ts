/**
 * A repeated request (spec §8.2 `request/copy`, `request/deletion`): a user
 * who asks again for the same items at the same sites while their earlier
 * request is still open (new or activated) gets that request back, counted
 * once more, instead of a second one. A copy request the Dealer has not looked
 * at yet (`new`) takes the repeat's group and number of copies; once
 * activated, only the count and the time of the last request change.
 *
 * Pure: the store reads the user's open requests and writes the merge in one
 * transaction.
 */
import type { CopyRequest, CopySubmission } from "./copy_request.ts";
import type { DeletionRequest, DeletionSubmission } from "./deletion_request.ts";
import { sameItemsAndSites } from "./request_item.ts";

/** What changes on the open request a repeat is merged into. */
export interface RepeatMerge {
  readonly id: number;
  readonly requestCount: number;
  readonly lastRequestMs: number;
}

export interface CopyRepeatMerge extends RepeatMerge {
  /** Present while the request is still new: the repeat's group and copies replace the earlier ones. */
  readonly edit: { readonly group: string | null; readonly n: number; readonly updatedMs: number } | null;
}

export interface RepeatInput<R, S> {
  /** The requests the store found open (any user's; only `user`'s count). */
  readonly open: readonly R[];
  readonly user: string;
  readonly submission: S;
  readonly nowMs: number;
}

/** The user's open request (the oldest, as listed) that a repeat merges into, if any. */
function repeated<
  R extends { user: string; items: readonly string[]; sites: readonly string[]; status: string },
>(
  o: RepeatInput<R, { items: readonly string[]; sites: readonly string[] }>,
): R | undefined {
  return o.open.find((r) =>
    r.user === o.user && (r.status === "new" || r.status === "activated") &&
    sameItemsAndSites(r, o.submission)
  );
}

/** null: nothing to merge into, the submission becomes a new request. */
export function mergeRepeatedCopy(o: RepeatInput<CopyRequest, CopySubmission>): CopyRepeatMerge | null {
  const same = repeated(o);
  if (!same) return null;
  return {
    id: same.id,
    requestCount: same.requestCount + 1,
    lastRequestMs: o.nowMs,
    edit: same.status === "new" ? { group: o.submission.group, n: o.submission.n, updatedMs: o.nowMs } : null,
  };
}

/** null: nothing to merge into, the submission becomes a new request. */
export function mergeRepeatedDeletion(
  o: RepeatInput<DeletionRequest, DeletionSubmission>,
): RepeatMerge | null {
  const same = repeated(o);
  if (!same) return null;
  return { id: same.id, requestCount: same.requestCount + 1, lastRequestMs: o.nowMs };
}
