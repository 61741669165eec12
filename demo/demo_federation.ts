/**
 * The demo federation: twelve POSIX sites (two tape, ten disk with different
 * quotas and reliabilities) and the events of a run — a site retired to
 * morgue part-way, one endpoint down for a while, one agent crashed once.
 * Quotas scale with `scale` (1 = the default demo, about 160 MB of disk).
 */
import type { DemoSite } from "./workload.ts";

const MB = 1e6;

export function demoSites(scale = 1): DemoSite[] {
  const disk = (name: string, mb: number, reliability: number): DemoSite => ({
    name,
    type: "disk",
    quota: Math.round(mb * MB * scale),
    reliability,
  });
  return [
    { name: "T1_US_FNAL_MSS", type: "mss", quota: 1e12, reliability: 1 },
    { name: "T1_DE_KIT_MSS", type: "mss", quota: 1e12, reliability: 1 },
    disk("T1_US_FNAL_Disk", 30, 0.99),
    disk("T1_DE_KIT_Disk", 25, 0.98),
    disk("T2_CH_CERN", 22, 0.99),
    disk("T2_US_MIT", 15, 0.97),
    disk("T2_US_Nebraska", 15, 0.95),
    disk("T2_DE_DESY", 14, 0.98),
    disk("T2_IT_Pisa", 10, 0.9),
    disk("T2_UK_London_IC", 10, 0.96),
    disk("T2_FR_GRIF", 9, 0.93),
    disk("T2_ES_CIEMAT", 9, 0.9),
  ];
}

export interface DemoEvents {
  /** The site retired (set to morgue) part-way, and the hour. */
  morgue: { site: string; hour: number };
  /** The endpoint that refuses every operation in [from, to) hours. */
  outage: { site: string; from: number; to: number };
  /** The agent killed once, and the hour. */
  crash: { actor: string; hour: number };
}

/** When things happen, as fractions of the run. */
export function demoEvents(hours: number): DemoEvents {
  return {
    morgue: { site: "T2_FR_GRIF", hour: Math.floor(hours * 0.4) },
    // The outage begins with a scheduler cycle (every 4 hours) for runs of whole days, so that the copy an
    // operator asks for there at its start is attempted while the site is down (run_demo.ts).
    outage: { site: "T1_US_FNAL_Disk", from: Math.floor(hours * 0.5), to: Math.floor(hours * 0.7) },
    crash: { actor: "/dynamo/dealer", hour: Math.floor(hours * 0.3) },
  };
}
