/**
 * The request tracker (spec §4.4 `track_requests`): follows copy requests to
 * completion and carries out deletion requests, on its schedule and when a
 * request arrives. Deletions are committed through the inventory writer with
 * their deletion operations, exactly like Detox's. An application lock on
 * `requests` pauses it.
 */
import { lockedBlocks } from "../../policies/producers/replica_locks.ts";
import { trackCopyRequest } from "../../registry/requests/copy_request.ts";
import { deletionConflicts } from "../../registry/inventory/mod.ts";
import { planDeletionRequests, trackDeletionRequest } from "../../registry/requests/deletion_request.ts";
import type { AppLockStore } from "../../adapters/db/app_lock_store_port.ts";
import type { RequestStore } from "../../adapters/db/request_store_port.ts";
import type { LockStore } from "../../adapters/db/lock_store_port.ts";
import type { NewReplicaOperation } from "../../adapters/db/replica_operations_port.ts";
import type { ActorRef, Behavior } from "../runtime/mod.ts";
import type { InventoryGateway } from "../inventory/inventory_gateway.ts";
import { commitAtomic, operationTarget } from "./agent_commit.ts";
import { appLockOn } from "./app_lock_gate.ts";
import { CycleLock } from "./cycle_ticker.ts";

export interface RequestTrackerOptions {
  gateway: InventoryGateway;
  requests: RequestStore;
  locks: LockStore;
  appLocks: AppLockStore;
  intervalMs: number;
  /** Shared with the tracker's ticker (/dynamo/requests_ticks), so that their passes never overlap. */
  cycles?: CycleLock;
}

export interface TrackerPassSummary {
  copyRequestsChanged: number;
  deletionRequestsChanged: number;
  committedGeneration: number | null;
  skipped?: string;
  error?: string;
}

export type TrackerMsg =
  | { type: "tick" }
  | { type: "pass"; replyTo: ActorRef<TrackerPassSummary> };

export function requestTracker(options: RequestTrackerOptions): Behavior<TrackerMsg, null> {
  const cycles = options.cycles ?? new CycleLock();
  return {
    init(ctx) {
      if (options.intervalMs > 0) ctx.timers.startPeriodic("pass", options.intervalMs, { type: "tick" });
      return null;
    },
    async receive(state, msg, ctx) {
      const summary = await cycles.run(() => trackerPass(options, ctx.clock.now()));
      if (summary.error) ctx.log.warn("Request tracking failed: {error}", { error: summary.error });
      if (msg.type === "pass") msg.replyTo.tell(summary);
      return state;
    },
  };
}

export async function trackerPass(
  options: RequestTrackerOptions,
  nowMs: number,
): Promise<TrackerPassSummary> {
  const locked = await appLockOn(options.appLocks, "requests");
  if (locked) {
    return {
      copyRequestsChanged: 0,
      deletionRequestsChanged: 0,
      committedGeneration: null,
      skipped: `locked by ${locked.user}`,
    };
  }
  const now = Math.floor(nowMs / 1000);
  const snapshot = options.gateway.snapshot();
  const copies = await options.requests.openCopyRequests();
  const copyRequestsChanged = await options.requests.saveCopyRequests(
    copies.map((before) => ({ before, after: trackCopyRequest(snapshot, before, now) })),
  );
  const deletions = await options.requests.openDeletionRequests();
  const tracked = deletions.map((r) => trackDeletionRequest(snapshot, r, now));
  const locks = lockedBlocks(snapshot, await options.locks.listLocks({ activeAt: now }), now);
  const work = planDeletionRequests(
    snapshot,
    tracked,
    (datasetId, siteId) => locks.get(datasetId)?.get(siteId),
    now,
  );
  let committedGeneration: number | null = null;
  if (work.commands.length > 0) {
    const operations: NewReplicaOperation[] = work.operations.map((o) => ({
      kind: "deletion",
      cycleId: null,
      requestId: o.requestId,
      ...operationTarget(snapshot, o),
      size: o.size,
    }));
    // The writer re-checks, at apply time, that no copy committed since this snapshot reads from a
    // replica being deleted as its only source (registry/inventory/dataset_conflicts.ts).
    const deleted = work.operations.map((o) => ({
      siteId: o.siteId,
      blockIds: o.blockIds ?? snapshot.replica(o.datasetId, o.siteId)!.blockReplicas.map((br) => br.blockId),
    }));
    const commit = await commitAtomic(options.gateway, work.commands, operations, {
      decidedAt: snapshot.generation,
      preconditions: deletionConflicts(snapshot, deleted, "user"),
    });
    if (!commit.ok) {
      // Nothing was deleted: keep the tracking, leave new requests to the next pass.
      const changed = await options.requests.saveDeletionRequests(
        deletions.map((before, i) => ({ before, after: before.status === "new" ? before : tracked[i]! })),
      );
      return {
        copyRequestsChanged,
        deletionRequestsChanged: changed,
        committedGeneration: null,
        error: commit.error,
      };
    }
    committedGeneration = commit.generation;
  }
  const deletionRequestsChanged = await options.requests.saveDeletionRequests(
    deletions.map((before, i) => ({ before, after: work.requests[i]! })),
  );
  return { copyRequestsChanged, deletionRequestsChanged, committedGeneration };
}
