/**
 * Application locks (spec §8.2 `applock`): an operator pauses an agent
 * (`detox`, `dealer`, `requests`) while they work on something; the agent
 * skips its scheduled cycles until the lock is released, and refuses runs on
 * request. One lock per application; the holder or a registry admin releases it.
 */
import { InventoryValidationError } from "../inventory/mod.ts";

export const LOCKABLE_APPS = ["detox", "dealer", "requests"] as const;
export type LockableApp = typeof LOCKABLE_APPS[number];

export interface AppLock {
  readonly app: LockableApp;
  readonly user: string;
  readonly service: string | null;
  readonly note: string | null;
  /** Unix seconds. */
  readonly since: number;
}

export function checkApp(app: unknown): LockableApp {
  if (typeof app !== "string" || !(LOCKABLE_APPS as readonly string[]).includes(app)) {
    throw new InventoryValidationError(
      "applock",
      "app",
      `expected one of ${LOCKABLE_APPS.join(", ")}, got ${JSON.stringify(app)}`,
    );
  }
  return app as LockableApp;
}

export function checkLockText(field: "service" | "note", value: string | null): string | null {
  if (value === null) return null;
  if (value.length > (field === "note" ? 1000 : 100)) {
    throw new InventoryValidationError(
      "applock",
      field,
      `at most ${field === "note" ? 1000 : 100} characters`,
    );
  }
  return value;
}

/** The lock that pauses an application known by any of `names` (a lock name, a title), if any. */
export function lockOn(locks: readonly AppLock[], names: readonly string[]): AppLock | null {
  return locks.find((l) => names.includes(l.app)) ?? null;
}

/** "locked by USER (note)": how a paused agent or scheduler step says why. */
export function lockedBy(lock: AppLock): string {
  return `locked by ${lock.user}${lock.note ? ` (${lock.note})` : ""}`;
}
