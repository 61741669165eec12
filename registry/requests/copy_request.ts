/**
 * Copy requests (spec §4.4, §8.2 `request/copy`): a user asks for `n` copies
 * of items at sites. A request is `new` until the Dealer looks at it; then
 * `activated` with one action per (item, site), or `rejected` with the
 * reason, or `completed` when nothing was needed. Actions go `new` →
 * `queued` (the copy is scheduled) → `completed` (the replica is complete)
 * or `failed`. Every state has a way out: an action not placed within the
 * retry budget fails, and a request ends when all its actions have.
 * `cancelled` is possible only while `new`.
 */
import { InventoryValidationError, nameProblem, type Snapshot } from "../inventory/mod.ts";
import { checkItemsAndSites, itemAt, resolveItem, settleRequest } from "./request_item.ts";

export type CopyRequestStatus = "new" | "activated" | "completed" | "rejected" | "cancelled" | "failed";
export type CopyActionStatus = "new" | "queued" | "completed" | "failed";

export interface CopyAction {
  readonly item: string;
  readonly site: string;
  readonly status: CopyActionStatus;
  /** Dealer cycles in which the action was proposed without being placed. */
  readonly attempts: number;
  readonly reason: string | null;
  /** Unix seconds. */
  readonly updatedAt: number;
}

export interface CopyRequest {
  readonly id: number;
  readonly user: string;
  /** null: the Dealer's default group. */
  readonly group: string | null;
  /** Copies wanted; 0 = one at every listed site. */
  readonly n: number;
  readonly items: readonly string[];
  /** Site names or patterns; empty = any Dealer target site. */
  readonly sites: readonly string[];
  readonly status: CopyRequestStatus;
  readonly reason: string | null;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly lastRequestAt: number;
  readonly requestCount: number;
  readonly actions: readonly CopyAction[];
}

export interface CopySubmission {
  items: string[];
  sites: string[];
  group: string | null;
  n: number;
}

export const MAX_COPIES = 100;

/** Checks a submission; errors name the field and change nothing. */
export function checkCopySubmission(s: CopySubmission): CopySubmission {
  checkItemsAndSites(s.items, s.sites);
  if (s.group !== null && nameProblem("group", s.group)) {
    throw new InventoryValidationError("request", "group", nameProblem("group", s.group)!);
  }
  if (!Number.isInteger(s.n) || s.n < 0 || s.n > MAX_COPIES) {
    throw new InventoryValidationError("request", "n", `expected an integer from 0 to ${MAX_COPIES}`);
  }
  return { ...s, items: [...new Set(s.items)].sort(), sites: [...new Set(s.sites)].sort() };
}

/**
 * Follows the inventory (spec §4.4 `track_requests`): queued actions whose
 * replica is complete are completed; those whose replica has disappeared go
 * back to `new` to be placed again (within the retry budget). A request whose
 * actions have all ended is completed, or failed with the first failure.
 */
export function trackCopyRequest(snapshot: Snapshot, r: CopyRequest, now: number): CopyRequest {
  if (r.status !== "activated") return r;
  const actions = r.actions.map((a): CopyAction => {
    if (a.status !== "queued") return a;
    const item = resolveItem(snapshot, a.item);
    const site = snapshot.site(a.site);
    if (typeof item === "string" || !site) {
      return {
        ...a,
        status: "failed",
        reason: typeof item === "string" ? item : "the site is gone",
        updatedAt: now,
      };
    }
    const at = itemAt(snapshot, item, site.id);
    if (at.state === "complete") return { ...a, status: "completed", reason: null, updatedAt: now };
    if (at.state === "none") return { ...a, status: "new", reason: "the copy disappeared", updatedAt: now };
    return a;
  });
  return settle({ ...r, actions }, now);
}

/** A request whose actions have all ended ends too. */
export function settle(r: CopyRequest, now: number): CopyRequest {
  return settleRequest(r, now);
}
