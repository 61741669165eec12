/**
 * The heavy reads of the registry as plain data: what a route asks, which a
 * reader replica answers in its Worker when one is ready and caught up
 * (docs/parallel_readers.md), and the main isolate otherwise, by the same
 * function. The answer is the JSON the route sends.
 */
import { hasWildcard } from "../glob.ts";
import type { Snapshot } from "../snapshot.ts";
import { inventoryStats, type Statistic, type StatsQuery } from "./inventory_stats.ts";
import {
  blockReplicaListing,
  type BlockReplicaQuery,
  datasetListing,
  subscriptionListing,
  type SubscriptionQuery,
} from "./listings.ts";
import { type Pace, UNPACED } from "./pace.ts";

export type HeavyRead =
  | { kind: "stats"; statistic: Statistic; query: StatsQuery }
  | { kind: "datasets"; pattern: string }
  | { kind: "blockreplicas"; query: BlockReplicaQuery }
  | { kind: "subscriptions"; query: SubscriptionQuery };

/**
 * Whether a read is worth a reader replica: the statistics always (every dataset), a listing when
 * its dataset pattern is a wildcard (a scan); an exact name is an index look-up, answered in-process.
 */
export function scansInventory(read: HeavyRead): boolean {
  switch (read.kind) {
    case "stats":
      return true;
    case "datasets":
      return hasWildcard(read.pattern);
    case "blockreplicas":
    case "subscriptions":
      return hasWildcard(read.query.dataset);
  }
}

export function answerHeavyRead(snap: Snapshot, read: HeavyRead, pace: Pace = UNPACED): Promise<unknown> {
  switch (read.kind) {
    case "stats":
      return inventoryStats(snap, read.statistic, read.query, pace);
    case "datasets":
      return datasetListing(snap, read.pattern, pace);
    case "blockreplicas":
      return blockReplicaListing(snap, read.query, pace);
    case "subscriptions":
      return subscriptionListing(snap, read.query, pace);
  }
}
