/**
 * Detox locks (spec §2.5, §8.2 `detox/lock`): a user's promise that some data
 * must not be deleted until a date. The item is a dataset name, a dataset
 * wildcard, or `dataset#block`; optional site and group patterns narrow it.
 */
import { InventoryValidationError, nameProblem, splitBlockFullName } from "../inventory/mod.ts";

export interface DetoxLock {
  readonly id: number;
  readonly item: string;
  /** Site name patterns; empty = every site. */
  readonly sites: readonly string[];
  /** Owner group patterns; empty = any owner. */
  readonly groups: readonly string[];
  readonly user: string;
  readonly service: string | null;
  readonly comment: string | null;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Set when unlocked: the lock then stays only as history. */
  readonly unlockedAt: number | null;
}

export interface LockRequest {
  item: string;
  expiresAt: number;
  sites: string[];
  groups: string[];
  service: string | null;
  comment: string | null;
}

/** Whether a lock is in force at `now` (Unix seconds). */
export function lockActive(lock: DetoxLock, now: number): boolean {
  return lock.unlockedAt === null && lock.expiresAt > now;
}

/** Checks a requested lock; errors name the field. */
export function checkLockRequest(r: LockRequest, now: number): LockRequest {
  const fail = (field: string, reason: string): never => {
    throw new InventoryValidationError("lock", field, reason);
  };
  const pattern = r.item.includes("#") ? splitBlockFullName(r.item) : null;
  if (r.item.includes("#") && !pattern) fail("item", `expected DATASET#BLOCK, got ${JSON.stringify(r.item)}`);
  const datasetPart = pattern ? pattern[0] : r.item;
  const problem = nameProblem("dataset", datasetPart.replaceAll("*", "x").replaceAll("?", "x"));
  if (problem) fail("item", problem);
  if (pattern && nameProblem("block", pattern[1])) fail("item", nameProblem("block", pattern[1])!);
  if (!Number.isFinite(r.expiresAt)) fail("expires", "expected a date");
  if (r.expiresAt <= now) fail("expires", "the expiry date is in the past");
  for (const s of r.sites) {
    if (nameProblem("site", s.replaceAll("*", "x").replaceAll("?", "x"))) {
      fail("sites", `invalid site pattern ${JSON.stringify(s)}`);
    }
  }
  for (const g of r.groups) {
    if (nameProblem("group", g)) fail("groups", `invalid group pattern ${JSON.stringify(g)}`);
  }
  if (r.service !== null && (r.service.length > 100 || nameProblem("group", r.service))) {
    fail("service", "invalid service name");
  }
  if (r.comment !== null && r.comment.length > 1000) fail("comment", "at most 1000 characters");
  return r;
}

/** The caller's lock that a new request updates instead of duplicating (same item, sites and groups). */
export function sameLockTarget(lock: DetoxLock, r: LockRequest): boolean {
  const eq = (a: readonly string[], b: readonly string[]) =>
    a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
  return lock.item === r.item && eq(lock.sites, r.sites) && eq(lock.groups, r.groups);
}
