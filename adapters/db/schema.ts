import type { Generated } from "kysely";

/**
 * Table types for Kysely. Sizes, ids and times are int8 / int4 columns read as
 * JavaScript numbers; times are Unix seconds (inventory) or milliseconds
 * (`*_ms` columns). JSON columns hold small structured values.
 */
export interface DB extends DetoxTables, DealerTables, SchedulerTables {
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
    attempts: Generated<number>;
    last_error: string | null;
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

/** Tables of the Detox history, locks, popularity and deletion operations (migration 003). */
export interface DetoxTables {
  detox_locks: {
    id: Generated<number>;
    item: string;
    sites: unknown;
    groups: unknown;
    user_name: string;
    service: string | null;
    comment: string | null;
    created_ms: number;
    expires_ms: number;
    unlocked_ms: number | null;
  };
  dataset_accesses: { dataset: string; site: string; day: number; accesses: number };
  detox_policies: { hash: string; partition: string; text: string; created_ms: number };
  detox_cycles: {
    id: Generated<number>;
    partition: string;
    mode: string;
    policy_hash: string;
    generation: number;
    started_ms: number;
    ended_ms: number | null;
    time_shift_days: number;
    comment: string | null;
    status: string;
    iterations: number | null;
    evaluations: number | null;
    deleted_bytes: number | null;
    committed_generation: number | null;
    unmatched_lines: unknown;
    budget?: unknown;
  };
  detox_decisions: {
    cycle_id: number;
    site: string;
    dataset: string;
    decision: string;
    line: number;
    size: number;
    num_blocks: number;
    blocks: unknown;
    /** Why a held-back replica is kept (012); null otherwise. */
    reason?: string | null;
  };
  detox_sites: {
    cycle_id: number;
    site: string;
    status: string;
    quota: number;
    used_before: number;
    used_after: number;
    triggered: boolean;
    still_triggered: boolean;
    protected_bytes: number;
    deleted_bytes: number;
    kept_bytes: number;
  };
  replica_operations: {
    id: Generated<number>;
    kind: "copy" | "deletion";
    cycle_id: number | null;
    request_id: number | null;
    site: string;
    dataset: string;
    blocks: unknown;
    size: number;
    status: string;
    created_ms: number;
    updated_ms: number;
  };
}

/** Requests, application locks, job demand and the Dealer history (migration 004). */
export interface DealerTables {
  copy_requests: {
    id: Generated<number>;
    user_name: string;
    group_name: string | null;
    n: number;
    items: unknown;
    sites: unknown;
    status: string;
    reason: string | null;
    actions: unknown;
    created_ms: number;
    updated_ms: number;
    last_request_ms: number;
    request_count: number;
  };
  deletion_requests: {
    id: Generated<number>;
    user_name: string;
    items: unknown;
    sites: unknown;
    status: string;
    reason: string | null;
    actions: unknown;
    created_ms: number;
    updated_ms: number;
    last_request_ms: number;
    request_count: number;
  };
  app_locks: {
    app: string;
    user_name: string;
    service: string | null;
    note: string | null;
    since_ms: number;
  };
  job_demand: { dataset: string; queued: number; jobs: number };
  dealer_cycles: {
    id: Generated<number>;
    partition: string;
    mode: string;
    status: string;
    generation: number;
    committed_generation: number | null;
    started_ms: number;
    ended_ms: number | null;
    targets: number | null;
    accepted: number | null;
    rejected: number | null;
    bytes: number | null;
    rejections: unknown;
    comment: string | null;
    error: string | null;
    budget?: unknown;
  };
  dealer_decisions: {
    cycle_id: number;
    seq: number;
    plugin: string;
    dataset: string;
    blocks: unknown;
    site: string | null;
    accepted: boolean;
    reason: string;
    why: string;
    bytes: number;
    request_id: number | null;
  };
}

/** Sequence positions and application runs (migration 006). */
export interface SchedulerTables {
  scheduler_sequences: { name: string; enabled: boolean; position: number; updated_ms: number };
  applications: {
    id: Generated<number>;
    title: string;
    args: unknown;
    write: boolean;
    sequence: string | null;
    user_name: string | null;
    status: string;
    message: string | null;
    created_ms: number;
    started_ms: number | null;
    finished_ms: number | null;
  };
}
