/**
 * The demo's consistency story: part-way through, two sites lose a few files
 * (of datasets that have another complete copy, on disk or tape) and gain a few orphans. The
 * consistency agent is asked to check both sites three times, a few hours
 * apart: the first run sees the problems, the second confirms and repairs
 * them (copies come back through the file-operations queue, orphans are
 * deleted), the third finds what a flaky endpoint left over.
 */
import type { FileRecord, Snapshot } from "../registry/inventory/mod.ts";
import {
  type ConsistencyConfig,
  DEFAULT_CONSISTENCY,
  DEFAULT_SITE_CONSISTENCY,
} from "../policies/consistency/consistency_config.ts";

const HOUR_MS = 3600_000;

export const DEMO_CONSISTENCY_SITES = ["T2_US_MIT", "T2_DE_DESY"];

/** Demo days are short: an hour of ignore_age, four hours between confirming runs. */
export const DEMO_CONSISTENCY: ConsistencyConfig = {
  ...DEFAULT_CONSISTENCY,
  defaults: {
    ...DEFAULT_SITE_CONSISTENCY,
    ignoreAgeMs: HOUR_MS,
    confirmAfterMs: 4 * HOUR_MS,
    // Counts: the demo's sites hold a few dozen files, so a fraction would flag two orphans.
    maxMissing: { count: 10, fraction: Infinity },
    maxOrphan: { count: 10, fraction: Infinity },
  },
};

/** Hours after the last check that the repairs need (copies back through the next scheduler round). */
const REPAIR_HOURS = 4;

/**
 * Hours (from the start) of the faults and of the checks; null when the run is too short to see them
 * found, confirmed and repaired (a short run would end with files lost on purpose still missing).
 */
export function consistencyHours(hours: number): { faults: number; checks: number[] } | null {
  const faults = Math.floor(hours * 0.35);
  const checks = [faults + 1, faults + 6, faults + 11];
  return checks[2]! + REPAIR_HOURS <= hours ? { faults, checks } : null;
}

export interface InjectedFaults {
  lost: string[];
  orphans: string[];
}

/** Loses two files and drops two orphans at each site; deterministic for a given inventory. */
export async function injectConsistencyFaults(
  snap: Snapshot,
  rootOf: (site: string) => string,
  filesOfBlock: (blockId: number) => Promise<FileRecord[]>,
  nowMs: number,
): Promise<InjectedFaults> {
  const out: InjectedFaults = { lost: [], orphans: [] };
  const old = new Date(nowMs - 24 * HOUR_MS);
  for (const siteName of DEMO_CONSISTENCY_SITES) {
    const site = snap.site(siteName);
    if (!site) continue;
    const candidates = [...snap.replicasAt(site.id)]
      .map((dr) => ({ dr, dataset: snap.datasetById(dr.datasetId)! }))
      .filter(({ dr }) =>
        dr.blockReplicas.length > 0 && dr.blockReplicas.every((br) => br.fileIds === null) &&
        dr.groupId !== 0
      )
      .filter(({ dataset, dr }) =>
        snap.replicasOf(dataset.id).some((other) =>
          other.siteId !== site.id &&
          dr.blockReplicas.every((br) =>
            other.blockReplicas.some((o) => o.blockId === br.blockId && o.fileIds === null)
          )
        )
      )
      .sort((a, b) => (a.dataset.name < b.dataset.name ? -1 : 1))
      .slice(0, 2);
    for (const { dr } of candidates) {
      const files = await filesOfBlock(dr.blockReplicas[0]!.blockId);
      const file = files.sort((a, b) => (a.lfn < b.lfn ? -1 : 1))[0];
      if (!file) continue;
      await Deno.remove(`${rootOf(siteName)}${file.lfn}`).catch(() => {});
      out.lost.push(`${siteName}:${file.lfn}`);
    }
    for (let i = 0; i < 2; i++) {
      const path = `${rootOf(siteName)}/store/junk/junk_${i}.root`;
      await Deno.mkdir(`${rootOf(siteName)}/store/junk`, { recursive: true });
      await Deno.writeTextFile(path, `an orphan nobody registered (${i})`);
      await Deno.utime(path, old, old);
      out.orphans.push(`${siteName}:/store/junk/junk_${i}.root`);
    }
  }
  return out;
}
