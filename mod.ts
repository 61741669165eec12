/**
 * Dynamo on Deno as a library: build the service in your own process, read
 * inventory snapshots, submit commands, and reuse the actor runtime.
 *
 * Importing this module has no side effects.
 *
 * @example Start the service on an embedded database and inject a dataset
 * ```ts
 * import { createDynamo } from "./mod.ts";
 *
 * const dynamo = await createDynamo({ home: "/tmp/dynamo-example" });
 * await dynamo.ready;
 * const reply = await dynamo.port.submit({
 *   commands: [
 *     { op: "site.upsert", name: "T2_EXAMPLE", storage_type: "disk", status: "ready" },
 *     { op: "dataset.upsert", name: "/Example/Data/RAW", status: "valid" },
 *   ],
 *   atomic: true,
 * });
 * console.log(reply.ok && reply.generation, dynamo.port.snapshot().dataset("/Example/Data/RAW"));
 * await dynamo.close();
 * ```
 *
 * @module
 */

/** Builds the whole service (database, actor tree, registry app); see {@link DynamoOptions}. */
export { createDynamo, type Dynamo, type DynamoOptions } from "./service/create_dynamo.ts";

/** The HTTP registry and the interfaces it is given (named by what they provide). */
export { createRegistryApp, type RegistryAppOptions } from "./registry/http/app.ts";
export type { Authenticator, Principal } from "./registry/http/authenticator.ts";
export type {
  CommandSubmitter,
  InjectionTracker,
  InventoryAccess,
  InventoryReader,
  MetricsSource,
  SubmitResult,
} from "./registry/http/inventory_access.ts";
import type { InventoryAccess as InventoryAccessType } from "./registry/http/inventory_access.ts";
/**
 * @deprecated Renamed `InventoryAccess` (issue 14: interfaces are named by what
 * they provide). Kept so code written against the earlier public API still
 * compiles; it will be removed in a later release.
 */
export type RegistryPort = InventoryAccessType;

/** The inventory model: records, commands, snapshots, the pure reducer. */
export {
  type Block,
  type BlockReplica,
  COMMAND_VERSION,
  type CommandOutcome,
  type Dataset,
  type DatasetReplica,
  DEFAULT_PARTITIONS,
  type FileRecord,
  type Group,
  injectionToCommands,
  invalidationToCommands,
  type InventoryCommand,
  inventoryDigest,
  type InventoryState,
  InventoryValidationError,
  parseCommand,
  type Partition,
  type PartitionDefinition,
  type Site,
  type SitePartitionUsage,
  Snapshot,
  type Submission,
} from "./registry/inventory/mod.ts";

/** The generic actor runtime. */
export {
  type ActorContext,
  type ActorRef,
  ActorSystem,
  ask,
  AskTimeoutError,
  type Behavior,
  type ChildSpec,
  type Clock,
  SeededRng,
  SystemClock,
  TestClock,
} from "./actors/runtime/mod.ts";

/** Databases: embedded PGlite or a PostgreSQL server. */
export { type Database, openDatabase, type OpenDatabaseOptions } from "./adapters/db/database.ts";
