import { type InventoryCommand, parseCommand } from "./commands.ts";
import { OWNERSHIP_LEVELS } from "./enums.ts";
import { InventoryValidationError } from "./errors.ts";
import { describeType, splitBlockFullName } from "./names.ts";

/**
 * The injection JSON of the original registry (spec §8.2):
 * `{"dataset": [...], "site": [...], "group": [...], "datasetreplica": [...]}`.
 * It becomes an ordered list of commands: sites and groups first (files may
 * name sites), then datasets with their blocks and files, then replicas.
 */
export function injectionToCommands(input: unknown): InventoryCommand[] {
  const doc = topLevel(input, "injection");
  const out: InventoryCommand[] = [];
  list(doc, "site").forEach((s, i) => {
    const at = `site[${i}]`;
    const o = obj(s, at, ["name", "host", "storage_type", "backend", "status", "filename_mappings"]);
    out.push(cmd(at, { op: "site.upsert", ...o }));
  });
  list(doc, "group").forEach((g, i) => {
    const at = `group[${i}]`;
    const o = obj(g, at, ["name", "olevel"]);
    // The original read the level case-insensitively; `dynamo-inject --group` sends "block".
    const level = OWNERSHIP_LEVELS.find((l) =>
      typeof o.olevel === "string" && l.toLowerCase() === o.olevel.toLowerCase()
    );
    out.push(cmd(at, { op: "group.upsert", ...o, ...(level ? { olevel: level } : {}) }));
  });
  const groupOfReplica = new Map<string, unknown>(); // "dataset@site" → group, for files injected with a site
  list(doc, "datasetreplica").forEach((r, i) => {
    const o = obj(r, `datasetreplica[${i}]`, ["dataset", "site", "group", "growing", "blockreplicas"]);
    if (o.group !== undefined) groupOfReplica.set(`${o.dataset}@${o.site}`, o.group);
  });
  list(doc, "dataset").forEach((d, i) => {
    const at = `dataset[${i}]`;
    const { blocks, ...fields } = obj(d, at, [
      "name",
      "status",
      "data_type",
      "software_version",
      "is_open",
      "last_update",
      "blocks",
    ]);
    out.push(cmd(at, { op: "dataset.upsert", ...fields }));
    arr(blocks, `${at}.blocks`).forEach((b, j) => {
      const bat = `${at}.blocks[${j}]`;
      const { name, files, ...bfields } = obj(b, bat, ["name", "is_open", "last_update", "files"]);
      const block = blockName(name, fields.name, `${bat}.name`);
      out.push(cmd(bat, { op: "block.upsert", dataset: fields.name, block, ...bfields }));
      const fileList = arr(files, `${bat}.files`).map((f, k) => injectedFile(f, `${bat}.files[${k}]`));
      if (fileList.length === 0) return;
      // Files reported at a site are attached to a replica owned like the injected dataset replica there.
      const sites = new Set(fileList.map((f) => f.site).filter((s) => s !== undefined));
      const groups = new Set([...sites].map((s) => groupOfReplica.get(`${fields.name}@${s}`)));
      const group = groups.size === 1 ? [...groups][0] : undefined;
      out.push(cmd(bat, {
        op: "files.add",
        dataset: fields.name,
        block,
        files: fileList,
        ...(group !== undefined ? { group } : {}),
      }));
    });
  });
  list(doc, "datasetreplica").forEach((r, i) => {
    const at = `datasetreplica[${i}]`;
    const { blockreplicas, ...fields } = obj(r, at, ["dataset", "site", "group", "growing", "blockreplicas"]);
    out.push(cmd(at, { op: "dataset_replica.upsert", ...fields }));
    // The most numerous objects of a document: their path is spelt out only for an error, and each
    // becomes one raw command (its block name replaced), not a copy without the name and then another.
    arr(blockreplicas, `${at}.blockreplicas`).forEach((br, j) => {
      const bat = () => `${at}.blockreplicas[${j}]`;
      const o = obj(br, bat, BLOCK_REPLICA_FIELDS);
      out.push(cmd(bat, {
        op: "block_replica.upsert",
        dataset: fields.dataset,
        site: fields.site,
        ...o,
        block: blockName(o.block, fields.dataset, () => `${bat()}.block`),
      }));
    });
  });
  return out;
}

const BLOCK_REPLICA_FIELDS = ["block", "group", "is_custodial", "last_update", "files"];

/** Where an object is in the document: a path, or how to spell it out when an error needs it. */
type Where = string | (() => string);

function spelt(at: Where): string {
  return typeof at === "string" ? at : at();
}

/**
 * The invalidation JSON (names only). Replicas go first so that deleting a
 * dataset and one of its replicas in one request does not fail.
 */
export function invalidationToCommands(input: unknown): InventoryCommand[] {
  const doc = topLevel(input, "deletion");
  const out: InventoryCommand[] = [];
  list(doc, "datasetreplica").forEach((r, i) => {
    const at = `datasetreplica[${i}]`;
    const { dataset, site, blockreplicas } = obj(r, at, ["dataset", "site", "blockreplicas"]);
    if (blockreplicas === undefined) {
      out.push(cmd(at, { op: "dataset_replica.delete", dataset, site }));
      return;
    }
    arr(blockreplicas, `${at}.blockreplicas`).forEach((br, j) => {
      const bat = `${at}.blockreplicas[${j}]`;
      const { block } = obj(br, bat, ["block"]);
      out.push(
        cmd(bat, {
          op: "block_replica.delete",
          dataset,
          site,
          block: blockName(block, dataset, `${bat}.block`),
        }),
      );
    });
  });
  list(doc, "dataset").forEach((d, i) => {
    const at = `dataset[${i}]`;
    const { name, blocks } = obj(d, at, ["name", "blocks"]);
    if (blocks === undefined) {
      out.push(cmd(at, { op: "dataset.delete", name }));
      return;
    }
    arr(blocks, `${at}.blocks`).forEach((b, j) => {
      const bat = `${at}.blocks[${j}]`;
      const { name: bname, files } = obj(b, bat, ["name", "files"]);
      const block = blockName(bname, name, `${bat}.name`);
      if (files === undefined) {
        out.push(cmd(bat, { op: "block.delete", dataset: name, block }));
        return;
      }
      const lfns = arr(files, `${bat}.files`).map((f, k) => obj(f, `${bat}.files[${k}]`, ["name"]).name);
      out.push(cmd(`${bat}.files`, { op: "files.delete", dataset: name, block, lfns }));
    });
  });
  list(doc, "group").forEach((g, i) => {
    out.push(cmd(`group[${i}]`, { op: "group.delete", name: obj(g, `group[${i}]`, ["name"]).name }));
  });
  list(doc, "site").forEach((s, i) => {
    out.push(cmd(`site[${i}]`, { op: "site.delete", name: obj(s, `site[${i}]`, ["name"]).name }));
  });
  return out;
}

const TOP_LEVEL = ["dataset", "site", "group", "datasetreplica"];

function topLevel(input: unknown, what: string): Record<string, unknown> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InventoryValidationError(what, null, `expected a JSON object, got ${describeType(input)}`);
  }
  for (const key of Object.keys(input)) {
    if (!TOP_LEVEL.includes(key)) {
      throw new InventoryValidationError(what, key, `unknown key; expected ${TOP_LEVEL.join(", ")}`);
    }
  }
  return input as Record<string, unknown>;
}

function list(doc: Record<string, unknown>, key: string): unknown[] {
  return arr(doc[key], key);
}

function arr(x: unknown, at: string): unknown[] {
  if (x === undefined) return [];
  if (!Array.isArray(x)) {
    throw new InventoryValidationError("injection", at, `expected a list, got ${describeType(x)}`);
  }
  return x;
}

function obj(x: unknown, at: Where, allowed: string[]): Record<string, unknown> {
  if (typeof x !== "object" || x === null || Array.isArray(x)) {
    throw new InventoryValidationError("injection", spelt(at), `expected an object, got ${describeType(x)}`);
  }
  for (const key of Object.keys(x)) {
    if (!allowed.includes(key)) {
      throw new InventoryValidationError("injection", `${spelt(at)}.${key}`, "unknown field");
    }
  }
  return x as Record<string, unknown>;
}

/** Block names may be given bare or as `dataset#block`. */
function blockName(name: unknown, dataset: unknown, at: Where): unknown {
  if (typeof name !== "string" || !name.includes("#")) return name;
  const parts = splitBlockFullName(name);
  if (!parts || parts[0] !== dataset) {
    throw new InventoryValidationError(
      "injection",
      spelt(at),
      `block ${JSON.stringify(name)} does not belong to dataset ${JSON.stringify(dataset)}`,
    );
  }
  return parts[1];
}

const CHECKSUM_KEYS = ["adler32", "crc32", "md5", "sha1", "sha256"];

function injectedFile(x: unknown, at: string): Record<string, unknown> {
  const o = obj(x, at, ["name", "lfn", "size", "site", "checksum", ...CHECKSUM_KEYS]);
  const file: Record<string, unknown> = { lfn: o.lfn ?? o.name, size: o.size };
  if (o.site !== undefined) file.site = o.site;
  const checksum: Record<string, unknown> = typeof o.checksum === "object" && o.checksum !== null
    ? { ...o.checksum as Record<string, unknown> }
    : o.checksum === undefined
    ? {}
    : { invalid: o.checksum };
  for (const key of CHECKSUM_KEYS) if (o[key] !== undefined) checksum[key] = o[key];
  if (Object.keys(checksum).length > 0) file.checksum = checksum;
  return file;
}

/** Parses a generated command, relabelling errors with the JSON path they came from. */
function cmd(at: Where, raw: Record<string, unknown>): InventoryCommand {
  try {
    return parseCommand(raw);
  } catch (e) {
    if (e instanceof InventoryValidationError) {
      const field = e.field ? `${spelt(at)}.${e.field}` : spelt(at);
      throw new InventoryValidationError("injection", field, e.reason);
    }
    throw e;
  }
}
