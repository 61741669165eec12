/**
 * The simulated federation and workload, drawn once from a seed and shared
 * by every strategy: sites (disk quota, inbound bandwidth), tape, production
 * (heavy-tailed sizes, archived to tape but for user outputs), jobs whose
 * inputs follow a Zipf law over a ranking that drifts (newest data first;
 * campaigns make an old dataset hot for a while), one outage and one site
 * retired to the morgue. Everything is hourly; same seed, same trace.
 */
import { SeededRng } from "../actors/runtime/clock.ts";

export const HOUR = 3600;
export const TB = 1e12;

export interface SimSite {
  readonly name: string;
  /** Bytes. */
  readonly quota: number;
  /** Bytes per second into the site (a copy occupies it for size / bandwidth). */
  readonly bandwidth: number;
}

export interface SimDataset {
  readonly index: number;
  readonly name: string;
  readonly bytes: number;
  /** Hour it was produced (negative: before the run). */
  readonly hour: number;
  /** The disk site production wrote it at. */
  readonly origin: string;
  readonly onTape: boolean;
}

export interface Trace {
  readonly seed: number;
  readonly days: number;
  readonly sites: readonly SimSite[];
  readonly tape: string;
  readonly datasets: readonly SimDataset[];
  /** Per hour: the dataset index of each job started then. */
  readonly jobs: readonly (readonly number[])[];
  readonly outage: { site: string; from: number; to: number };
  readonly morgue: { site: string; hour: number };
  /** Per dataset, the ascending hours it is read (Belady's knowledge). */
  readonly uses: readonly (readonly number[])[];
}

export type Scale = "small" | "medium";

export interface TraceOptions {
  seed: number;
  days: number;
  scale: Scale;
  /** Every dataset the same size (the property test where Belady is optimal). */
  equalSizes?: boolean | undefined;
}

const SCALES = {
  small: { sites: 6, quotaTb: [100, 300] as const, perDay: 6, jobsPerHour: 12, history: 900 },
  medium: { sites: 16, quotaTb: [200, 1200] as const, perDay: 25, jobsPerHour: 60, history: 1500 },
};

export function makeTrace(o: TraceOptions): Trace {
  const p = SCALES[o.scale];
  const rng = new SeededRng(o.seed * 7919 + 17);
  const hours = o.days * 24;
  const sites: SimSite[] = Array.from({ length: p.sites }, (_, i) => ({
    name: `T2_S${String(i + 1).padStart(2, "0")}`,
    quota: Math.round((p.quotaTb[0] + rng.next() * (p.quotaTb[1] - p.quotaTb[0])) * TB),
    // 2–10 Gb/s
    bandwidth: (2 + rng.next() * 8) * 1.25e8,
  }));
  const datasets: SimDataset[] = [];
  const size = () => {
    if (o.equalSizes) return 2 * TB;
    // Pareto, alpha 1.3, minimum 0.2 TB, capped at 40 TB.
    return Math.min(40 * TB, 0.2 * TB / Math.pow(1 - rng.next(), 1 / 1.3));
  };
  const produce = (hour: number) => {
    const i = datasets.length;
    const user = rng.next() < 0.1;
    datasets.push({
      index: i,
      name: `/Sim${String(i).padStart(5, "0")}/Run-v1/${user ? "USER" : "AOD"}`,
      bytes: Math.round(size()),
      hour,
      origin: sites[rng.int(sites.length)]!.name,
      onTape: !user,
    });
  };
  // History before the run: enough to fill about half of the disk.
  for (let i = 0; i < p.history; i++) produce(-1 - rng.int(24 * 365));
  datasets.sort((a, b) => a.hour - b.hour || a.index - b.index);
  datasets.forEach((d, i) => ((d as { index: number }).index = i));
  const jobs: number[][] = [];
  const campaigns: { dataset: number; from: number; to: number }[] = [];
  for (let h = 0; h < hours; h++) {
    if (rng.next() < p.perDay / 24) produce(h);
    if (h % (24 * 10) === 0 && datasets.length > 10) {
      campaigns.push({ dataset: rng.int(Math.floor(datasets.length * 0.8)), from: h, to: h + 24 * 5 });
    }
    const hot = campaigns.filter((c) => c.from <= h && h < c.to).map((c) => c.dataset);
    const n = datasets.length;
    const out: number[] = [];
    for (let j = 0; j < p.jobsPerHour; j++) {
      // Zipf (s = 0.9) over the ranking: campaigns first, then the newest data.
      const rank = zipf(rng.next(), n + hot.length, 0.9);
      out.push(rank < hot.length ? hot[rank]! : n - 1 - (rank - hot.length));
    }
    jobs.push(out);
  }
  const uses: number[][] = datasets.map(() => []);
  jobs.forEach((js, h) => js.forEach((d) => uses[d]!.push(h)));
  return {
    seed: o.seed,
    days: o.days,
    sites,
    tape: "T1_TAPE_MSS",
    datasets,
    jobs,
    outage: {
      site: sites[1 % sites.length]!.name,
      from: Math.floor(hours * 0.3),
      to: Math.floor(hours * 0.3) + 48,
    },
    morgue: { site: sites[sites.length - 1]!.name, hour: Math.floor(hours * 0.6) },
    uses,
  };
}

/** The rank (0-based) for a uniform draw u under Zipf(s) over n items, by inverting the continuous CDF. */
function zipf(u: number, n: number, s: number): number {
  const a = 1 - s;
  const max = (Math.pow(n + 1, a) - 1) / a;
  const x = Math.pow(1 + u * max * a, 1 / a) - 1;
  return Math.min(n - 1, Math.max(0, Math.floor(x)));
}

/** Datasets produced in an hour (ids), built once per trace. */
export function producedAt(trace: Trace): Map<number, SimDataset[]> {
  return Map.groupBy(trace.datasets.filter((d) => d.hour >= 0), (d) => d.hour);
}

/** Whether a site is in service at an hour (the outage, the morgue). */
export function siteUp(trace: Trace, site: string, hour: number): boolean {
  if (site === trace.morgue.site && hour >= trace.morgue.hour) return false;
  return !(site === trace.outage.site && hour >= trace.outage.from && hour < trace.outage.to);
}

/** Where production writes a dataset: its origin, or the first site in service when the origin is down. */
export function productionSite(trace: Trace, d: SimDataset, hour: number): string {
  if (siteUp(trace, d.origin, hour)) return d.origin;
  return trace.sites.find((s) => siteUp(trace, s.name, hour))!.name;
}
