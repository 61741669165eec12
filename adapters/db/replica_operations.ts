import type { BulkTransaction } from "./database.ts";
import type { NewReplicaOperation } from "./replica_operations_port.ts";

/** Records replica operations; called inside the inventory commit so both land together. */
export async function insertReplicaOperations(
  tx: BulkTransaction,
  operations: readonly NewReplicaOperation[],
  nowMs: number,
): Promise<void> {
  if (operations.length === 0) return;
  await tx.query(
    `INSERT INTO replica_operations
       (kind, cycle_id, request_id, site, dataset, blocks, size, status, created_ms, updated_ms)
     SELECT k, c, r, s, d, b::jsonb, z, 'new', $8, $8
       FROM unnest($1::text[], $2::integer[], $3::integer[], $4::text[], $5::text[], $6::text[], $7::bigint[])
       AS u(k, c, r, s, d, b, z)`,
    [
      operations.map((o) => o.kind),
      operations.map((o) => o.cycleId),
      operations.map((o) => o.requestId),
      operations.map((o) => o.site),
      operations.map((o) => o.dataset),
      operations.map((o) => (o.blocks === null ? null : JSON.stringify(o.blocks))),
      operations.map((o) => o.size),
      nowMs,
    ],
  );
}
