/**
 * Where a heavy read is answered: on the reader replica when one is ready and
 * the read scans the inventory
 * (after it has applied what the writer had published when the request came:
 * read-your-writes), else in-process, paced by the request's budget. Both run
 * `answerHeavyRead`, so the JSON is the same either way.
 */
import type { Context } from "hono";
import { getLogger } from "@logtape/logtape";
import { answerHeavyRead, type HeavyRead, scansInventory } from "../inventory/reads/heavy_read.ts";
import type { AppEnv } from "./context.ts";
import type { InventoryReader } from "./inventory_access.ts";
import { budgetOf } from "./request_budget.ts";

const log = getLogger(["dynamo", "http"]);

export async function heavyRead(
  port: InventoryReader,
  c: Context<AppEnv>,
  read: HeavyRead,
): Promise<unknown> {
  const budget = budgetOf(c);
  const generation = port.snapshot().generation;
  const onReplica = scansInventory(read)
    ? port.replicaRead?.(read, generation, budget.deadline - budget.now(), budget.signal)
    : null;
  if (onReplica) {
    try {
      return await onReplica;
    } catch (error) {
      budget.check(); // past the deadline, or the client left: no second try
      // The replica failed or was replaced meanwhile: the main isolate answers.
      log.warn("The reader replica could not answer {kind}; answering in-process: {error}", {
        requestId: c.get("requestId"),
        kind: read.kind,
        error: String(error),
      });
    }
  }
  return await answerHeavyRead(port.snapshot(), read, () => budget.tick());
}
