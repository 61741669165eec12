import type { Generated } from "kysely";

/**
 * Table types for Kysely. Sizes, ids and times are int8 / int4 columns read as
 * JavaScript numbers; times are Unix seconds (inventory) or milliseconds
 * (`*_ms` columns). JSON columns hold small structured values.
 */
export interface DB {
  partitions: { id: number; name: string };
  groups: { id: number; name: string; olevel: string };
  sites: {
    id: number;
    name: string;
    host: string;
    storage_type: string;
    backend: string;
    status: string;
    filename_mappings: unknown;
  };
  quotas: { site_id: number; partition_id: number; quota: number };
  datasets: {
    id: number;
    name: string;
    status: string;
    data_type: string;
    software_version: string | null;
    last_update: number;
    is_open: boolean;
  };
  blocks: {
    id: number;
    dataset_id: number;
    name: string;
    size: number;
    num_files: number;
    is_open: boolean;
    last_update: number;
  };
  files: { id: number; block_id: number; lfn: string; size: number; checksum: unknown };
  dataset_replicas: { dataset_id: number; site_id: number; growing: boolean; group_id: number };
  block_replicas: {
    block_id: number;
    site_id: number;
    group_id: number;
    is_custodial: boolean;
    size: number;
    last_update: number;
    file_ids: unknown;
  };
  inventory_journal: { seq: number; at_ms: number; version: number; commands: string; annex: string };
  inventory_meta: {
    id: number;
    table_seq: number;
    next_dataset_id: number;
    next_block_id: number;
    next_site_id: number;
    next_group_id: number;
    next_file_id: number;
  };
  data_injections: {
    id: Generated<number>;
    created_ms: number;
    user_name: string;
    kind: string;
    payload: unknown;
    status: string;
    result: unknown;
    applied_seq: number | null;
    updated_ms: number;
  };
  users: {
    id: Generated<number>;
    name: string;
    email: string | null;
    dn: string | null;
    created_ms: number;
    revoked_ms: number | null;
  };
  user_roles: { user_id: number; role: string; target: string };
  user_tokens: {
    id: Generated<number>;
    user_id: number;
    token_hash: string;
    created_ms: number;
    revoked_ms: number | null;
    last_used_ms: number | null;
  };
}
