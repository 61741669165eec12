/**
 * The gate every agent passes before a cycle: an application lock on its
 * name (spec §8.2 `applock`) pauses scheduled cycles and refuses runs on
 * request, until the holder or an administrator releases it.
 */
import { type AppLock, type LockableApp, lockOn } from "../../registry/requests/app_lock.ts";
import type { AppLockStore } from "../../adapters/db/app_lock_store_port.ts";

/** The lock that pauses `app` now, or null (also when the agent was given no lock store). */
export async function appLockOn(store: AppLockStore | undefined, app: LockableApp): Promise<AppLock | null> {
  return store ? lockOn(await store.appLocks(), [app]) : null;
}
