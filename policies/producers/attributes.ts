/**
 * Runs the attribute producers for a cycle and assembles what conditions see
 * (spec §2.5). Producers are pure functions of the snapshot and their inputs,
 * which the Detox agent reads from the registry and history tables.
 */
import type { Snapshot } from "../../registry/inventory/mod.ts";
import type { DetoxLock } from "../../registry/requests/detox_lock.ts";
import type { EnforcerRules } from "../enforcer_rules.ts";
import { type DatasetAttributes, NO_ATTRIBUTES } from "../language/mod.ts";
import { onProtectedSite, unhandledCopies } from "./dataset_flags.ts";
import { enforcerProtection } from "./enforcer_protection.ts";
import { type AccessRecord, popularity } from "./popularity.ts";
import { lockedBlocks } from "./replica_locks.ts";

export interface ProducerInputs {
  /** Unix seconds. */
  now: number;
  locks?: readonly DetoxLock[];
  accesses?: readonly AccessRecord[];
  protectedSites?: readonly string[];
  enforcer?: EnforcerRules | null;
  /** Items of copy requests not yet acted upon. */
  pendingCopies?: readonly string[];
}

export function produceAttributes(snapshot: Snapshot, inputs: ProducerInputs): DatasetAttributes {
  const locks = lockedBlocks(snapshot, inputs.locks ?? [], inputs.now);
  const pop = popularity(snapshot, inputs.accesses ?? [], inputs.now);
  const protectedSite = onProtectedSite(snapshot, inputs.protectedSites ?? []);
  const enforced = inputs.enforcer
    ? enforcerProtection(snapshot, inputs.enforcer)
    : new Map<number, Set<number>>();
  const unhandled = unhandledCopies(snapshot, inputs.pendingCopies ?? []);
  return {
    ...NO_ATTRIBUTES,
    lastAccess: (id) => pop.lastAccess.get(id) ?? 0,
    numAccess: (id) => pop.numAccess.get(id) ?? 0,
    usageRank: (id) => pop.usageRank.get(id) ?? 0,
    lockedBlocks: (datasetId, siteId) => {
      const perSite = locks.get(datasetId);
      return perSite === undefined ? undefined : perSite.get(siteId);
    },
    enforcerProtected: (datasetId, siteId) => enforced.get(datasetId)?.has(siteId) ?? false,
    onProtectedSite: (id) => protectedSite.has(id),
    unhandledCopyExists: (id) => unhandled.has(id),
  };
}
