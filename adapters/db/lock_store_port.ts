/** Detox locks in the database (who protects which items, and their history). */
import type { DetoxLock, LockRequest } from "../../registry/requests/detox_lock.ts";

export interface LockFilter {
  /** Only locks in force at this time (Unix seconds); all (with history) when absent. */
  activeAt?: number;
  user?: string;
  ids?: number[];
  /** Item pattern (shell wildcards). */
  item?: string;
}

export interface LockStore {
  listLocks(filter: LockFilter): Promise<DetoxLock[]>;
  /** Creates a lock, or updates the caller's lock on the same item, sites and groups. */
  lock(user: string, request: LockRequest, nowMs: number): Promise<DetoxLock>;
  /** Moves locks to history. `user` null: any user's (administrators). Returns how many. */
  unlock(user: string | null, ids: number[], nowMs: number): Promise<number>;
  /** Makes the caller's active locks exactly `requests`. */
  setLocks(
    user: string,
    requests: LockRequest[],
    nowMs: number,
  ): Promise<{ created: number; updated: number; unlocked: number }>;
}
