/**
 * Site reliability for destination choice (a goal the original stated but
 * never implemented): the recent success rate of copies to each site, shrunk
 * towards the federation's overall rate so that a site with little history is
 * neither favoured nor punished. With no history at all every site weighs 1:
 * placement is then exactly free-space weighted, as in the original.
 */
import type { Snapshot } from "../../registry/inventory/mod.ts";

/** How many transfers of evidence the prior is worth. */
export const PRIOR_STRENGTH = 10;

export function siteReliability(
  snapshot: Snapshot,
  outcomes: ReadonlyMap<string, { done: number; failed: number }>,
): (siteId: number) => number {
  let done = 0;
  let total = 0;
  for (const o of outcomes.values()) {
    done += o.done;
    total += o.done + o.failed;
  }
  const prior = total > 0 ? done / total : 1;
  const rates = new Map<number, number>();
  for (const [name, o] of outcomes) {
    const site = snapshot.site(name);
    if (site) rates.set(site.id, (o.done + PRIOR_STRENGTH * prior) / (o.done + o.failed + PRIOR_STRENGTH));
  }
  return (siteId) => rates.get(siteId) ?? prior;
}
