import type { CycleBudgetRecord } from "../requests/detox_run.ts";

/** What a Detox or Dealer cycle used of its time budget, as the REST history shows it (seconds). */
export function budgetJson(b: CycleBudgetRecord | null) {
  return b === null ? null : {
    budget_seconds: b.budgetMs / 1000,
    elapsed_seconds: b.elapsedMs / 1000,
    yields: b.yields,
    exceeded: b.exceeded,
    ...(b.error ? { error: b.error } : {}),
  };
}
