/**
 * One file task on real storage: a copy (staging a tape source first) or a
 * deletion, with its outcome written to the FileOpsStore (history; for a
 * failure its class and retry time, from the retry rule in
 * policies/fileops/plan.ts). Used by the link and deletion actors; the store
 * rows, not this object, are the state, so a crash anywhere costs a re-run of
 * the task, which finds a verified file in place and counts it done.
 */
import { siteAllows, type SiteUse } from "../../policies/fileops/site_access.ts";
import type { FileOpsStore, Subscription } from "../../adapters/db/fileops_store_port.ts";
import {
  mappingProtocol,
  parentOf,
  sameAdler32,
  type SiteStorageResolver,
  type StorageAdapter,
} from "../../adapters/storage/storage_port.ts";
import { failedAttempt } from "../../policies/fileops/plan.ts";
import { mapLfn, type Site, type Snapshot } from "../../registry/inventory/mod.ts";

export interface FileTaskDeps {
  store: FileOpsStore;
  storage: SiteStorageResolver;
  snapshot(): Snapshot;
  nowMs(): number;
  /** Failed attempts before a file is held as all_failed (no retry time after the last). */
  maxAttempts: number;
  /** How often a tape source is asked again whether a staged file is online. */
  stageCheckMs: number;
  /** Told of every copy landed and deletion done (the dataset actors); never awaited. */
  onFileDone?(task: Subscription): void;
}

export type TaskResult = "done" | "failed" | "staging";

export async function runCopy(deps: FileTaskDeps, worker: string, task: Subscription): Promise<TaskResult> {
  const started = deps.nowMs();
  try {
    const snapshot = deps.snapshot();
    const [source, destination] = [
      usableSite(snapshot, task.source!, "serve"),
      usableSite(snapshot, task.site, "receive"),
    ];
    const [from, to] = await Promise.all([adapterOf(deps, source), adapterOf(deps, destination)]);
    const fromPath = mapLfn(source, task.lfn, mappingProtocol(from));
    const toPath = mapLfn(destination, task.lfn, mappingProtocol(to));
    if (from.capabilities.stage && !(await from.isStaged!(fromPath))) {
      await from.stage!(fromPath);
      await deps.store.markStaging(task.id, worker, deps.nowMs() + deps.stageCheckMs, deps.nowMs());
      return "staging";
    }
    const expect = { size: task.size, ...(task.adler32 ? { adler32: task.adler32 } : {}) };
    if (!(await alreadyThere(to, toPath, expect))) await to.copyFrom(from, fromPath, toPath, expect);
  } catch (e) {
    await recordFailure(deps, worker, task, e, started);
    return "failed";
  }
  await deps.store.finish(task, worker, { ok: true, startedMs: started, finishedMs: deps.nowMs() });
  deps.onFileDone?.({ ...task, status: "done" });
  return "done";
}

export async function runDeletion(
  deps: FileTaskDeps,
  worker: string,
  task: Subscription,
): Promise<TaskResult> {
  const started = deps.nowMs();
  try {
    const site = usableSite(deps.snapshot(), task.site, "delete");
    const storage = await adapterOf(deps, site);
    const path = mapLfn(site, task.lfn, mappingProtocol(storage));
    await storage.delete(path); // a file already gone counts as deleted (spec §5.2)
    await storage.rmdir(parentOf(path)).catch(() => {}); // empty directories go with their last file
  } catch (e) {
    await recordFailure(deps, worker, task, e, started);
    return "failed";
  }
  await deps.store.finish(task, worker, { ok: true, startedMs: started, finishedMs: deps.nowMs() });
  deps.onFileDone?.({ ...task, status: "done" });
  return "done";
}

/** A re-run after a crash finds the verified file in place: EEXIST is success (spec §5.2). */
async function alreadyThere(to: StorageAdapter, path: string, expect: { size: number; adler32?: string }) {
  const stat = await to.stat(path);
  if (!stat || stat.isDirectory || stat.size !== expect.size) return false;
  return expect.adler32 === undefined || sameAdler32(await to.checksum(path), expect.adler32);
}

/** The site, if its status allows this use now (it may have changed since the task was planned). */
function usableSite(snapshot: Snapshot, name: string, use: SiteUse): Site {
  const site = snapshot.site(name);
  if (!site) throw Object.assign(new Error(`site ${name} is not in the inventory`), { code: "EINVAL" });
  if (!siteAllows(site.status, use)) {
    throw Object.assign(new Error(`site ${name} is ${site.status}`), { code: "ECONNREFUSED" });
  }
  return site;
}

function adapterOf(deps: FileTaskDeps, site: Site): Promise<StorageAdapter> {
  return deps.storage.adapter({ name: site.name, backend: site.backend, storageType: site.storageType });
}

async function recordFailure(
  deps: FileTaskDeps,
  worker: string,
  task: Subscription,
  e: unknown,
  started: number,
): Promise<void> {
  const now = deps.nowMs();
  const failed = failedAttempt({
    attempts: task.attempts,
    error: e,
    nowMs: now,
    maxAttempts: deps.maxAttempts,
  });
  await deps.store.finish(task, worker, { ok: false, ...failed, startedMs: started, finishedMs: now });
}
