/** Application locks in the database (one holder per lockable application). */
import type { AppLock, LockableApp } from "../../registry/requests/app_lock.ts";

export interface AppLockStore {
  /** Takes the lock, or returns the holder's lock when somebody else holds it. */
  lockApp(lock: AppLock): Promise<{ ok: true; lock: AppLock } | { ok: false; lock: AppLock }>;
  /** Releases it (`user` null = an administrator); false if not held (by that user). */
  unlockApp(app: LockableApp, user: string | null): Promise<boolean>;
  appLocks(): Promise<AppLock[]>;
}
