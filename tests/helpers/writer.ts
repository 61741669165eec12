import { ActorSystem, TestClock } from "../../actors/runtime/mod.ts";
import { inventoryActor } from "../../actors/inventory/inventory_actor.ts";
import { InventoryGateway } from "../../actors/inventory/inventory_gateway.ts";
import { InventoryPublication } from "../../actors/inventory/publication.ts";
import type { Database } from "../../adapters/db/database.ts";
import { SqlInjectionQueue } from "../../adapters/db/injection_queue.ts";
import { SqlInventoryStore } from "../../adapters/db/inventory_store.ts";
import type { InventoryStore } from "../../adapters/db/inventory_store_port.ts";
import { DEFAULT_PARTITIONS, type PartitionDefinition } from "../../registry/inventory/mod.ts";

export const silentLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** A real inventory writer over a real database, on a TestClock, loaded and ready. */
export async function startWriter(
  db: Database,
  clock = new TestClock(),
  partitions: readonly PartitionDefinition[] = DEFAULT_PARTITIONS,
  /** `store`: instead of a `SqlInventoryStore` over `db` (a test's wrapper of one). */
  options: { store?: InventoryStore; maxBatchCommands?: number } = {},
) {
  const system = new ActorSystem({ clock, logger: () => silentLogger });
  const publication = new InventoryPublication();
  const queue = new SqlInjectionQueue(db);
  const writer = system.spawn({
    id: "inventory",
    restart: "permanent",
    behavior: () =>
      inventoryActor({
        store: options.store ?? new SqlInventoryStore(db),
        injections: queue,
        partitions,
        publication,
        ...(options.maxBatchCommands ? { maxBatchCommands: options.maxBatchCommands } : {}),
      }),
  });
  const gateway = new InventoryGateway(system, writer, publication);
  await publication.ready;
  return { system, publication, gateway, queue, clock, writer };
}
