import { BlockReplicaColumns } from "./block_replica_columns.ts";
import type { BlockReplica, DatasetReplica } from "./records.ts";

/**
 * The inventory's dataset replica: its own fields plus its block replicas in
 * packed columns (see block_replica_columns.ts). `blockReplicas` builds fresh
 * records on every read, so read it once per use; lookups by block go through
 * `columns` without building the others.
 */
export class PackedDatasetReplica implements DatasetReplica {
  constructor(
    readonly datasetId: number,
    readonly siteId: number,
    readonly growing: boolean,
    readonly groupId: number,
    readonly columns: BlockReplicaColumns,
  ) {}

  static empty(datasetId: number, siteId: number, growing: boolean, groupId: number): PackedDatasetReplica {
    return new PackedDatasetReplica(datasetId, siteId, growing, groupId, BlockReplicaColumns.empty(siteId));
  }

  get blockReplicas(): readonly BlockReplica[] {
    return this.columns.toArray();
  }

  /** The same replica with other fields (the columns are shared, not copied). */
  with(fields: { growing: boolean; groupId: number }): PackedDatasetReplica {
    return new PackedDatasetReplica(
      this.datasetId,
      this.siteId,
      fields.growing,
      fields.groupId,
      this.columns,
    );
  }

  /** The same replica over other columns. */
  withColumns(columns: BlockReplicaColumns): PackedDatasetReplica {
    return new PackedDatasetReplica(this.datasetId, this.siteId, this.growing, this.groupId, columns);
  }
}
