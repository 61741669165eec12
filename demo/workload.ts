/**
 * The demo's workload, as pure functions of (seed, hour, what exists): which
 * datasets production makes and where, and which datasets users' jobs read.
 * Job inputs follow a Zipf law over a popularity ranking that drifts: newer
 * data is wanted more, and every two days each dataset's appeal is drawn
 * anew, so what was hot cools down and Dynamo has to follow.
 */
import { SeededRng } from "../actors/runtime/mod.ts";
import { unitHash } from "./unreliable_storage.ts";

export interface DemoSite {
  name: string;
  type: "disk" | "mss";
  /** Bytes of the site's partition quota (disk) or of its tape. */
  quota: number;
  /** Chance that a write into the site succeeds. */
  reliability: number;
}

export interface ProducedFile {
  lfn: string;
  size: number;
}

export interface ProducedDataset {
  name: string;
  blocks: { name: string; files: ProducedFile[] }[];
  /** The disk site production wrote it at. */
  origin: string;
  /** The tape site it was archived at; null for analysis outputs kept on disk only. */
  tape: string | null;
}

export interface WorkloadOptions {
  seed: number;
  sites: readonly DemoSite[];
  /** Datasets produced per day on average. */
  productionPerDay: number;
  /** Jobs started per hour. */
  jobsPerHour: number;
  /** Smallest and largest file, bytes. */
  fileBytes: readonly [number, number];
}

const TIERS = ["AOD", "MINIAOD", "NANOAOD", "USER"];
/** Hours after which each dataset's appeal is drawn anew. */
const DRIFT_HOURS = 48;
const ZIPF_EXPONENT = 1.1;

export class Workload {
  #produced = 0;

  constructor(private readonly o: WorkloadOptions) {}

  /**
   * What production makes in this hour, at sites that can take it
   * (`available`: disk sites in service). Deterministic for (seed, hour).
   */
  produce(hour: number, available: readonly string[]): ProducedDataset[] {
    const rng = new SeededRng(this.o.seed * 1_000_003 + hour);
    const out: ProducedDataset[] = [];
    // Poisson-ish: each of a few slots fires with the hourly probability.
    const slots = 4;
    const p = this.o.productionPerDay / 24 / slots;
    for (let s = 0; s < slots; s++) {
      if (rng.next() >= p || available.length === 0) continue;
      const n = this.#produced++;
      const tier = TIERS[rng.int(TIERS.length)]!;
      const name = `/Demo${String(n).padStart(4, "0")}/Run2026${
        String.fromCharCode(65 + (n % 26))
      }-v1/${tier}`;
      const blocks = Array.from({ length: 1 + rng.int(3) }, (_, b) => ({
        name: `b${b + 1}`,
        files: Array.from({ length: 1 + rng.int(3) }, (_, f) => ({
          lfn: `/store/demo/${tier.toLowerCase()}/${String(n).padStart(4, "0")}/b${b + 1}/f${f + 1}.root`,
          size: this.o.fileBytes[0] + rng.int(this.o.fileBytes[1] - this.o.fileBytes[0] + 1),
        })),
      }));
      const tapes = this.o.sites.filter((x) => x.type === "mss").map((x) => x.name);
      out.push({
        name,
        blocks,
        origin: weightedSite(rng, this.o.sites.filter((x) => available.includes(x.name))),
        // User outputs live on disk only; everything else is archived.
        tape: tier === "USER" || tapes.length === 0 ? null : tapes[rng.int(tapes.length)]!,
      });
    }
    return out;
  }

  /**
   * Jobs started in this hour per dataset, over `datasets` in production
   * order with the hour each was made.
   */
  jobs(hour: number, datasets: readonly { name: string; hour: number }[]): Map<string, number> {
    const jobs = new Map<string, number>();
    if (datasets.length === 0) return jobs;
    const epoch = Math.floor(hour / DRIFT_HOURS);
    const appeal = datasets.map((d) => ({
      name: d.name,
      // Younger is hotter; the epoch's draw moves a dataset up to four days either way.
      score: d.hour - hour + (unitHash(`${this.o.seed}:${d.name}:${epoch}`) - 0.5) * 8 * 24,
    }));
    appeal.sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : 1));
    const weights = appeal.map((_, r) => 1 / (r + 1) ** ZIPF_EXPONENT);
    const total = weights.reduce((a, b) => a + b, 0);
    const rng = new SeededRng(this.o.seed * 7_919 + hour);
    for (let j = 0; j < this.o.jobsPerHour; j++) {
      let x = rng.next() * total;
      let r = 0;
      while (r < weights.length - 1 && x >= weights[r]!) x -= weights[r++]!;
      const name = appeal[r]!.name;
      jobs.set(name, (jobs.get(name) ?? 0) + 1);
    }
    return jobs;
  }
}

/** A site drawn with probability proportional to its quota. */
function weightedSite(rng: SeededRng, sites: readonly DemoSite[]): string {
  const total = sites.reduce((a, s) => a + s.quota, 0);
  let x = rng.next() * total;
  for (const s of sites) {
    if (x < s.quota) return s.name;
    x -= s.quota;
  }
  return sites.at(-1)!.name;
}

/** The bytes of a produced file: deterministic for (seed, LFN), so a checksum can be recomputed. */
export function fileBytes(seed: number, file: ProducedFile): Uint8Array {
  const rng = new SeededRng(Math.floor(unitHash(`${seed}${file.lfn}`) * 2 ** 32));
  const bytes = new Uint8Array(file.size);
  const words = new Uint32Array(bytes.buffer, 0, Math.floor(file.size / 4));
  for (let i = 0; i < words.length; i++) words[i] = rng.next() * 2 ** 32;
  for (let i = words.length * 4; i < file.size; i++) bytes[i] = rng.int(256);
  return bytes;
}
