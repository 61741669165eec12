/**
 * The access records of the simulated jobs, as the popularity producer needs
 * them. Popularity only sums a dataset's accesses over the history window and
 * takes the latest day; the site and the individual days do not matter to it.
 * So instead of handing it every (dataset, site, day) record of the run each
 * cycle (a list that grows by thousands a day), this keeps per dataset its
 * days in order and hands it one record per dataset: same last access, same
 * number of accesses, same usage rank.
 */
import { ACCESS_HISTORY_SECONDS, type AccessRecord } from "../policies/producers/popularity.ts";

interface History {
  /** Day (unix seconds) and accesses that day, oldest first; from `head` on. */
  days: number[];
  counts: number[];
  head: number;
  total: number;
  site: string;
}

export class AccessHistory {
  readonly #byDataset = new Map<string, History>();

  add(dataset: string, site: string, day: number): void {
    let h = this.#byDataset.get(dataset);
    if (!h) this.#byDataset.set(dataset, h = { days: [], counts: [], head: 0, total: 0, site });
    const last = h.days.length - 1;
    if (last >= h.head && h.days[last] === day) h.counts[last]! += 1;
    else {
      h.days.push(day);
      h.counts.push(1);
    }
    h.total += 1;
    h.site = site;
  }

  /** One record per dataset accessed in the window ending at `now` (days never lie in the future here). */
  records(now: number): AccessRecord[] {
    const out: AccessRecord[] = [];
    for (const [dataset, h] of this.#byDataset) {
      while (h.head < h.days.length && h.days[h.head]! < now - ACCESS_HISTORY_SECONDS) {
        h.total -= h.counts[h.head]!;
        h.head++;
      }
      if (h.head === h.days.length) continue;
      out.push({ dataset, site: h.site, day: h.days[h.days.length - 1]!, accesses: h.total });
    }
    return out;
  }
}
