import {
  DATA_TYPES,
  DATASET_STATUSES,
  type DatasetStatus,
  type DataType,
  isOneOf,
  OWNERSHIP_LEVELS,
  type OwnershipLevel,
  SITE_STATUSES,
  type SiteStatus,
  STORAGE_TYPES,
  type StorageType,
} from "./enums.ts";
import { InventoryValidationError } from "./errors.ts";
import { describeType, hasControlCharacters, type NameKind, nameProblem } from "./names.ts";
import { checksumProblem, MAX_TOTAL_BYTES } from "./input_rules.ts";
import type { MappingChain } from "./records.ts";
import { regexProblem } from "./linear_regex.ts";

/**
 * Every change to the inventory is one of these JSON commands (versioned: the
 * journal stores the version with each batch). Field names follow the
 * original wire format (snake_case). Times are Unix seconds, sizes bytes.
 */
export const COMMAND_VERSION = 1;

export interface NewFile {
  lfn: string;
  size: number;
  checksum?: Record<string, string>;
  /** Where the file exists now; required when the block already has replicas. */
  site?: string;
}

export type InventoryCommand =
  | {
    op: "dataset.upsert";
    name: string;
    status?: DatasetStatus;
    data_type?: DataType;
    software_version?: string | null;
    is_open?: boolean;
    last_update?: number;
  }
  | { op: "dataset.delete"; name: string }
  | { op: "block.upsert"; dataset: string; block: string; is_open?: boolean; last_update?: number }
  | { op: "block.delete"; dataset: string; block: string }
  | { op: "files.add"; dataset: string; block: string; files: NewFile[]; group?: string | null }
  | { op: "files.delete"; dataset: string; block: string; lfns: string[] }
  | {
    op: "site.upsert";
    name: string;
    host?: string;
    storage_type?: StorageType;
    backend?: string;
    status?: SiteStatus;
    filename_mappings?: Record<string, MappingChain[]>;
  }
  | { op: "site.delete"; name: string }
  | { op: "group.upsert"; name: string; olevel?: OwnershipLevel }
  | { op: "group.delete"; name: string }
  | { op: "quota.set"; site: string; partition: string; quota: number }
  | { op: "dataset_replica.upsert"; dataset: string; site: string; group?: string | null; growing?: boolean }
  | { op: "dataset_replica.delete"; dataset: string; site: string }
  | {
    op: "block_replica.upsert";
    dataset: string;
    block: string;
    site: string;
    group?: string | null;
    is_custodial?: boolean;
    last_update?: number;
    /** Absent: a complete replica. Present: LFNs held (added to an existing incomplete replica). */
    files?: string[];
  }
  | { op: "block_replica.delete"; dataset: string; block: string; site: string };

export type CommandOp = InventoryCommand["op"];

/** Limits that keep a single command from monopolising the writer. */
export const MAX_FILES_PER_COMMAND = 100_000;

/** A human label for the object a command is about, used in error messages. */
export function commandObject(cmd: { op: string } & Record<string, unknown>): string {
  const q = (x: unknown) => JSON.stringify(x);
  switch (cmd.op) {
    case "dataset.upsert":
    case "dataset.delete":
      return `dataset ${q(cmd.name)}`;
    case "block.upsert":
    case "block.delete":
    case "files.add":
    case "files.delete":
      return `block ${q(`${cmd.dataset}#${cmd.block}`)}`;
    case "site.upsert":
    case "site.delete":
      return `site ${q(cmd.name)}`;
    case "group.upsert":
    case "group.delete":
      return `group ${q(cmd.name)}`;
    case "quota.set":
      return `quota of partition ${q(cmd.partition)} at site ${q(cmd.site)}`;
    case "dataset_replica.upsert":
    case "dataset_replica.delete":
      return `dataset replica ${q(cmd.dataset)} at ${q(cmd.site)}`;
    case "block_replica.upsert":
    case "block_replica.delete":
      return `block replica ${q(`${cmd.dataset}#${cmd.block}`)} at ${q(cmd.site)}`;
    default:
      return `command ${q(cmd.op)}`;
  }
}

type FieldKind =
  | "dataset"
  | "block"
  | "site"
  | "group"
  | "partition"
  | "groupOrNull"
  | "bool"
  | "time"
  | "bytes"
  | "quota"
  | "text"
  | "textOrNull"
  | "status"
  | "dataType"
  | "storageType"
  | "siteStatus"
  | "olevel"
  | "newFiles"
  | "lfns"
  | "mappings";

interface FieldSpec {
  kind: FieldKind;
  required?: boolean;
}

const SCHEMA: Record<CommandOp, Record<string, FieldSpec>> = {
  "dataset.upsert": {
    name: { kind: "dataset", required: true },
    status: { kind: "status" },
    data_type: { kind: "dataType" },
    software_version: { kind: "textOrNull" },
    is_open: { kind: "bool" },
    last_update: { kind: "time" },
  },
  "dataset.delete": { name: { kind: "dataset", required: true } },
  "block.upsert": {
    dataset: { kind: "dataset", required: true },
    block: { kind: "block", required: true },
    is_open: { kind: "bool" },
    last_update: { kind: "time" },
  },
  "block.delete": { dataset: { kind: "dataset", required: true }, block: { kind: "block", required: true } },
  "files.add": {
    dataset: { kind: "dataset", required: true },
    block: { kind: "block", required: true },
    files: { kind: "newFiles", required: true },
    group: { kind: "groupOrNull" },
  },
  "files.delete": {
    dataset: { kind: "dataset", required: true },
    block: { kind: "block", required: true },
    lfns: { kind: "lfns", required: true },
  },
  "site.upsert": {
    name: { kind: "site", required: true },
    host: { kind: "text" },
    storage_type: { kind: "storageType" },
    backend: { kind: "text" },
    status: { kind: "siteStatus" },
    filename_mappings: { kind: "mappings" },
  },
  "site.delete": { name: { kind: "site", required: true } },
  "group.upsert": { name: { kind: "group", required: true }, olevel: { kind: "olevel" } },
  "group.delete": { name: { kind: "group", required: true } },
  "quota.set": {
    site: { kind: "site", required: true },
    partition: { kind: "partition", required: true },
    quota: { kind: "quota", required: true },
  },
  "dataset_replica.upsert": {
    dataset: { kind: "dataset", required: true },
    site: { kind: "site", required: true },
    group: { kind: "groupOrNull" },
    growing: { kind: "bool" },
  },
  "dataset_replica.delete": {
    dataset: { kind: "dataset", required: true },
    site: { kind: "site", required: true },
  },
  "block_replica.upsert": {
    dataset: { kind: "dataset", required: true },
    block: { kind: "block", required: true },
    site: { kind: "site", required: true },
    group: { kind: "groupOrNull" },
    is_custodial: { kind: "bool" },
    last_update: { kind: "time" },
    files: { kind: "lfns" },
  },
  "block_replica.delete": {
    dataset: { kind: "dataset", required: true },
    block: { kind: "block", required: true },
    site: { kind: "site", required: true },
  },
};

export const COMMAND_OPS = Object.keys(SCHEMA) as CommandOp[];

/**
 * Checks the shape of an untrusted command (from JSON) and returns it typed.
 * Unknown fields, wrong types and bad names are errors naming the field.
 */
export function parseCommand(input: unknown): InventoryCommand {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InventoryValidationError("command", null, `expected an object, got ${describeType(input)}`);
  }
  const raw = input as Record<string, unknown>;
  const op = raw.op;
  if (!isOneOf(COMMAND_OPS, op)) {
    throw new InventoryValidationError(
      "command",
      "op",
      `expected one of ${COMMAND_OPS.join(", ")}, got ${JSON.stringify(op)}`,
    );
  }
  const schema = SCHEMA[op];
  try {
    for (const key of Object.keys(raw)) {
      if (key !== "op" && key !== "v" && !(key in schema)) {
        throw new InventoryValidationError(UNLABELLED, key, "unknown field");
      }
    }
    if ("v" in raw && raw.v !== COMMAND_VERSION) {
      throw new InventoryValidationError(
        UNLABELLED,
        "v",
        `unsupported command version ${JSON.stringify(raw.v)}`,
      );
    }
    const out: Record<string, unknown> = { op };
    for (const [field, spec, nameKind] of SCHEMA_ENTRIES[op]) {
      const value = raw[field];
      if (value === undefined) {
        if (spec.required) throw new InventoryValidationError(UNLABELLED, field, "is required");
        continue;
      }
      // A name that passes is kept as it is (what checkField returns); one that fails, or a null
      // group, goes through checkField, which reports it.
      out[field] = nameKind !== undefined && value !== null && nameProblem(nameKind, value) === null
        ? value
        : checkField(UNLABELLED, field, spec.kind, value);
    }
    return out as InventoryCommand;
  } catch (e) {
    // The label (names quoted as JSON) is built for the error only: it was ~15 % of parsing an injection.
    if (e instanceof InventoryValidationError && e.object === UNLABELLED) {
      throw new InventoryValidationError(commandObject(raw as { op: string }), e.field, e.reason);
    }
    throw e;
  }
}

/** Stands for the command's label in errors thrown while it is checked; `parseCommand` puts the label in. */
const UNLABELLED = "\u0000command";

/** The name rule a field of this kind is checked by, if it is a name (a group may also be null). */
const NAME_KIND_OF: Partial<Record<FieldKind, NameKind>> = {
  dataset: "dataset",
  block: "block",
  site: "site",
  group: "group",
  partition: "partition",
  groupOrNull: "group",
};

/** Each op's fields (with the name rule of each name), listed once rather than on every command. */
const SCHEMA_ENTRIES = Object.fromEntries(
  Object.entries(SCHEMA).map((
    [op, fields],
  ) => [op, Object.entries(fields).map(([field, spec]) => [field, spec, NAME_KIND_OF[spec.kind]])]),
) as Record<CommandOp, [string, FieldSpec, NameKind | undefined][]>;

function checkField(object: string, field: string, kind: FieldKind, value: unknown): unknown {
  const fail = (reason: string): never => {
    throw new InventoryValidationError(object, field, reason);
  };
  const name = (k: "dataset" | "block" | "site" | "group" | "partition" | "lfn") => {
    const problem = nameProblem(k, value);
    if (problem) fail(problem);
    return value;
  };
  const oneOf = (values: readonly string[]) => {
    if (!isOneOf(values, value)) fail(`expected one of ${values.join(", ")}, got ${JSON.stringify(value)}`);
    return value;
  };
  switch (kind) {
    case "dataset":
    case "block":
    case "site":
    case "group":
    case "partition":
      return name(kind);
    case "groupOrNull":
      return value === null ? null : name("group");
    case "bool":
      if (typeof value !== "boolean") fail(`expected true or false, got ${describeType(value)}`);
      return value;
    case "time":
      if (!Number.isSafeInteger(value) || (value as number) < 0) {
        fail(`expected Unix seconds (a non-negative integer), got ${describeType(value)}`);
      }
      return value;
    case "bytes":
      return checkBytes(value, fail);
    case "quota":
      // Tape quotas reach tens of PB, beyond 2^53; a quota need not be exact to the byte,
      // so any integral double the database's int8 column can hold is accepted.
      if (!Number.isInteger(value)) {
        fail(`expected an integer number of bytes, got ${describeType(value)}`);
      }
      if (Math.abs(value as number) > MAX_QUOTA_BYTES) {
        fail(`must be at most ${MAX_QUOTA_BYTES} bytes in magnitude, got ${value}`);
      }
      return value;
    case "text":
      if (typeof value !== "string") fail(`expected a string, got ${describeType(value)}`);
      if ((value as string).length > 2000) fail("must be at most 2000 characters");
      if (hasControlCharacters(value as string)) fail("must not contain control characters");
      if (!(value as string).isWellFormed()) fail("must be well-formed Unicode (no lone surrogates)");
      return value;
    case "textOrNull":
      return value === null ? null : checkField(object, field, "text", value);
    case "status":
      return oneOf(DATASET_STATUSES);
    case "dataType":
      return oneOf(DATA_TYPES);
    case "storageType":
      return oneOf(STORAGE_TYPES);
    case "siteStatus":
      return oneOf(SITE_STATUSES);
    case "olevel":
      return oneOf(OWNERSHIP_LEVELS);
    case "lfns": {
      if (!Array.isArray(value)) fail(`expected an array of LFNs, got ${describeType(value)}`);
      const list = value as unknown[];
      if (list.length > MAX_FILES_PER_COMMAND) fail(`at most ${MAX_FILES_PER_COMMAND} entries`);
      list.forEach((lfn, i) => {
        const problem = nameProblem("lfn", lfn);
        if (problem) throw new InventoryValidationError(object, `${field}[${i}]`, problem);
      });
      return [...list];
    }
    case "newFiles":
      return checkNewFiles(object, field, value);
    case "mappings":
      return checkMappings(object, field, value);
  }
}

/** The largest quota magnitude: below PostgreSQL's int8 limit (about 9.22e18). */
export const MAX_QUOTA_BYTES = 9e18;

function checkBytes(value: unknown, fail: (reason: string) => never): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    fail(`expected a non-negative integer number of bytes, got ${describeType(value)}`);
  }
  return value as number;
}

function checkNewFiles(object: string, field: string, value: unknown): NewFile[] {
  if (!Array.isArray(value)) {
    throw new InventoryValidationError(
      object,
      field,
      `expected an array of files, got ${describeType(value)}`,
    );
  }
  if (value.length > MAX_FILES_PER_COMMAND) {
    throw new InventoryValidationError(object, field, `at most ${MAX_FILES_PER_COMMAND} files`);
  }
  let total = 0;
  const files = value.map((f, i) => {
    const at = `${field}[${i}]`;
    const fail = (sub: string, reason: string): never => {
      throw new InventoryValidationError(object, sub ? `${at}.${sub}` : at, reason);
    };
    if (typeof f !== "object" || f === null || Array.isArray(f)) {
      fail("", `expected an object, got ${describeType(f)}`);
    }
    const file = f as Record<string, unknown>;
    for (const key of Object.keys(file)) {
      if (!["lfn", "size", "checksum", "site"].includes(key)) fail(key, "unknown field");
    }
    const lfnProblem = nameProblem("lfn", file.lfn);
    if (lfnProblem) fail("lfn", lfnProblem);
    const size = checkBytes(file.size, (r) => fail("size", r));
    const out: NewFile = { lfn: file.lfn as string, size };
    if (file.checksum !== undefined) out.checksum = checkChecksum(file.checksum, (r) => fail("checksum", r));
    if (file.site !== undefined) {
      const siteProblem = nameProblem("site", file.site);
      if (siteProblem) fail("site", siteProblem);
      out.site = file.site as string;
    }
    total += size;
    return out;
  });
  // Block and dataset sizes are sums of file sizes: a command whose own sum is out of range never applies.
  if (total > MAX_TOTAL_BYTES) {
    throw new InventoryValidationError(
      object,
      field,
      `the files add up to ${total} bytes, more than a block may hold (${MAX_TOTAL_BYTES})`,
    );
  }
  return files;
}

export function checkChecksum(value: unknown, fail: (reason: string) => never): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(`expected an object of algorithm → hex digest, got ${describeType(value)}`);
  }
  const out: Record<string, string> = {};
  for (const [alg, digest] of Object.entries(value as Record<string, unknown>)) {
    const problem = checksumProblem(alg, digest);
    if (problem) fail(problem);
    out[alg] = (digest as string).toLowerCase();
  }
  return out;
}

function checkMappings(object: string, field: string, value: unknown): Record<string, MappingChain[]> {
  const fail = (path: string, reason: string): never => {
    throw new InventoryValidationError(object, path, reason);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(field, `expected an object of protocol → chains, got ${describeType(value)}`);
  }
  const out: Record<string, MappingChain[]> = {};
  for (const [protocol, chains] of Object.entries(value as Record<string, unknown>)) {
    const at = `${field}.${protocol}`;
    if (!/^[a-z][a-z0-9+]{0,15}$/.test(protocol)) {
      fail(at, "protocol names are lower-case letters and digits");
    }
    if (!Array.isArray(chains)) fail(at, `expected a list of chains, got ${describeType(chains)}`);
    out[protocol] = (chains as unknown[]).map((chain, c) => {
      if (!Array.isArray(chain) || chain.length === 0) {
        fail(`${at}[${c}]`, "a chain is a non-empty list of steps");
      }
      return (chain as unknown[]).map((step, s) => {
        const where = `${at}[${c}][${s}]`;
        if (
          !Array.isArray(step) || step.length !== 2 || typeof step[0] !== "string" ||
          typeof step[1] !== "string"
        ) {
          fail(where, "a step is [lfn regex, pfn template]");
        }
        const [pattern, template] = step as [string, string];
        const problem = regexProblem(pattern, { anchor: "whole" });
        if (problem !== null) fail(where, problem);
        if (hasControlCharacters(template)) fail(where, "template must not contain control characters");
        return [pattern, template] as const;
      });
    });
  }
  return out;
}
