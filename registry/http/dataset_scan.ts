/**
 * `Snapshot.datasetsMatching` for request handlers: the same answer, but a
 * wildcard scan of every dataset watches the request's budget (deadline,
 * client gone) and yields to other requests while it runs.
 */
import { compileGlob, type Dataset, hasWildcard, type Snapshot } from "../inventory/mod.ts";
import type { RequestBudget } from "./request_budget.ts";

export async function datasetsMatchingWithin(
  snapshot: Snapshot,
  pattern: string,
  budget: RequestBudget,
): Promise<Dataset[]> {
  if (!hasWildcard(pattern)) return snapshot.datasetsMatching(pattern);
  const glob = compileGlob(pattern);
  const out: Dataset[] = [];
  for (const d of snapshot.datasets()) {
    await budget.tick();
    if (glob.test(d.name)) out.push(d);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
