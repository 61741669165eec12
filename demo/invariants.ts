/**
 * What must hold at the end of a demo run, checked against the files on the
 * sites themselves (read from their directories, not through our adapters):
 * every file the inventory places at a site is there with its catalogue
 * checksum, and no produced dataset has lost its last complete copy.
 */
import type { FileRecord, Snapshot } from "../registry/inventory/mod.ts";

export interface EndState {
  snapshot: Snapshot;
  /** The directory behind a site (its LFNs map to paths below it unchanged). */
  rootOf(site: string): string;
  /** Every dataset production made. */
  produced: readonly string[];
  filesOfBlock(blockId: number): Promise<FileRecord[]>;
}

export interface Invariants {
  files_checked: number;
  files_missing_at_end: number;
  checksum_mismatches_at_end: number;
  /** Produced datasets with a block that has no complete replica anywhere (or gone from the inventory). */
  last_copies_lost: number;
  /** The first few problems, for the operator. */
  problems: string[];
}

export async function checkInvariants(
  end: EndState,
  adler32Of: (path: string) => Promise<string | null>,
): Promise<Invariants> {
  const snap = end.snapshot;
  const out: Invariants = {
    files_checked: 0,
    files_missing_at_end: 0,
    checksum_mismatches_at_end: 0,
    last_copies_lost: 0,
    problems: [],
  };
  const problem = (text: string) => {
    if (out.problems.length < 20) out.problems.push(text);
  };
  for (const name of end.produced) {
    const d = snap.dataset(name);
    if (!d) {
      out.last_copies_lost++;
      problem(`${name}: gone from the inventory`);
      continue;
    }
    const replicas = snap.replicasOf(d.id);
    const files = new Map<number, FileRecord[]>();
    for (const blockId of d.blockIds) files.set(blockId, await end.filesOfBlock(blockId));
    let lost = false;
    for (const blockId of d.blockIds) {
      const complete = replicas.some((r) =>
        r.blockReplicas.some((br) => br.blockId === blockId && br.fileIds === null)
      );
      if (!complete) lost = true;
    }
    if (lost) {
      out.last_copies_lost++;
      problem(`${name}: a block has no complete replica left`);
    }
    for (const r of replicas) {
      const site = snap.siteById(r.siteId)!.name;
      for (const br of r.blockReplicas) {
        const present = new Set(br.fileIds ?? []);
        for (const f of files.get(br.blockId) ?? []) {
          if (br.fileIds !== null && !present.has(f.id)) continue;
          out.files_checked++;
          const sum = await adler32Of(`${end.rootOf(site)}${f.lfn}`);
          if (sum === null) {
            out.files_missing_at_end++;
            problem(`${f.lfn} at ${site}: missing`);
          } else if (
            f.checksum.adler32 !== undefined && parseInt(sum, 16) !== parseInt(f.checksum.adler32, 16)
          ) {
            out.checksum_mismatches_at_end++;
            problem(`${f.lfn} at ${site}: adler32 ${sum}, catalogue ${f.checksum.adler32}`);
          }
        }
      }
    }
  }
  return out;
}
