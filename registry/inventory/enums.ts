/**
 * Enumerations of the data model (spec §1.1). Values are stored by name in
 * JSON and in the database; the policy language refers to them by upper-case
 * symbol (`VALID`, `MSS`, `MORGUE`).
 */
export const DATASET_STATUSES = [
  "unknown",
  "deleted",
  "deprecated",
  "invalid",
  "production",
  "valid",
  "ignored",
] as const;
export type DatasetStatus = typeof DATASET_STATUSES[number];

export const DATA_TYPES = ["unknown", "production", "test"] as const;
export type DataType = typeof DATA_TYPES[number];

export const STORAGE_TYPES = ["disk", "mss", "buffer", "unknown"] as const;
export type StorageType = typeof STORAGE_TYPES[number];

export const SITE_STATUSES = ["ready", "waitroom", "morgue", "unknown"] as const;
export type SiteStatus = typeof SITE_STATUSES[number];

export const OWNERSHIP_LEVELS = ["Dataset", "Block"] as const;
export type OwnershipLevel = typeof OWNERSHIP_LEVELS[number];

export function isOneOf<T extends string>(values: readonly T[], x: unknown): x is T {
  return typeof x === "string" && (values as readonly string[]).includes(x);
}
