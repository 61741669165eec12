/**
 * The Detox policy file (spec §2.4): `Partition`, `On`, `When`, `Until`,
 * the stack of Protect/Delete/Dismiss/Ignore lines (and their Block forms)
 * evaluated top-down, a default decision, `Order`, and `Algo Static`.
 */
import { isLegacyDialect, LEGACY_SITE_DEFAULTS, normalizeLine } from "./legacy_lines.ts";
import {
  compileReplicaCondition,
  compileSiteCondition,
  type Condition,
  type EvalSite,
  firstWord,
  PolicySyntaxError,
  REPLICA_VARIABLES,
  type ReplicaTarget,
  type SourceLine,
  sourceLines,
} from "../language/mod.ts";
import { checkPolicySize } from "../language/limits.ts";

export type Action = "Protect" | "Delete" | "Dismiss" | "Ignore";
export type BlockAction = "ProtectBlock" | "DeleteBlock" | "DismissBlock";
const ACTIONS: readonly string[] = ["Protect", "Delete", "Dismiss", "Ignore"];
const BLOCK_ACTIONS: readonly string[] = ["ProtectBlock", "DeleteBlock", "DismissBlock"];
const LINE_TYPES = ["Partition", "On", "When", "Until", "Order", "Algo", ...ACTIONS, ...BLOCK_ACTIONS];
/** Accepted from earlier versions of the language (legacy_lines.ts), not offered in messages. */
const LEGACY_LINE_TYPES = ["Strategy", "AlwaysDelete"];

export interface PolicyLine {
  /** 1-based line number in the file: the reference recorded with each decision. */
  readonly line: number;
  readonly action: Action | BlockAction;
  readonly condition: Condition<ReplicaTarget>;
  /** The line as written. */
  readonly text: string;
}

export interface SortKey {
  readonly variable: string;
  readonly direction: "increasing" | "decreasing";
  get(t: ReplicaTarget): number;
}

export interface DetoxPolicy {
  readonly file: string;
  readonly text: string;
  /** Hash of the text, identifying the policy version in the history. */
  readonly hash: string;
  readonly partition: string;
  /** Where the partition came from: the file's Partition line, or the configuration / command line. */
  readonly partitionSource: "file" | "configuration";
  readonly targets: readonly Condition<EvalSite>[];
  readonly triggers: readonly Condition<EvalSite>[];
  readonly stops: readonly Condition<EvalSite>[];
  readonly lines: readonly PolicyLine[];
  readonly defaultAction: Action;
  readonly defaultLine: number;
  /** Empty: no ordering (`Order none`, or no Order line). */
  readonly order: readonly SortKey[];
  /** `Algo Static`: no per-iteration cap, all sites at once. */
  readonly iterative: boolean;
  /** Every variable used, and the producer attributes they need. */
  readonly variables: readonly string[];
  readonly attributes: readonly string[];
}

export interface ParsePolicyOptions {
  file?: string;
  /** "now" for relative dates. Policies are parsed again at each cycle. */
  nowMs: number;
  timeShiftDays?: number;
  /**
   * The partition given by the Detox configuration or the command line, for
   * files without a Partition line (campaign files). When the file has one,
   * the two must agree.
   */
  partition?: string;
}

/** Names a partition may have (partitions file syntax), for names from configurations and command lines. */
const PARTITION_NAME = /^[A-Za-z0-9_][A-Za-z0-9_ .+-]{0,99}$/;

/** Whether the file names its partition itself (campaign files do not). */
export function hasPartitionLine(text: string): boolean {
  return sourceLines(text).some((l) => /^Partition(\s|$)/.test(l.text));
}

/** A partition name from the configuration or the command line, or a message saying why not. */
export function checkPartitionName(name: string): string | null {
  if (name.trim() !== name || !PARTITION_NAME.test(name)) {
    return `not a partition name: ${JSON.stringify(name.slice(0, 120))}`;
  }
  return null;
}

export function parseDetoxPolicy(text: string, options: ParsePolicyOptions): DetoxPolicy {
  const file = options.file ?? "<policy>";
  checkPolicySize(text, file);
  const compileOptions = {
    nowMs: options.nowMs,
    ...(options.timeShiftDays ? { timeShiftDays: options.timeShiftDays } : {}),
  };
  let partition: string | null = null;
  const targets: Condition<EvalSite>[] = [];
  const triggers: Condition<EvalSite>[] = [];
  const stops: Condition<EvalSite>[] = [];
  const lines: PolicyLine[] = [];
  let defaultAction: Action | null = null;
  let defaultLine = 0;
  let order: SortKey[] | null = null;
  let iterative = true;
  const fail = (l: SourceLine, column: number, reason: string): never => {
    throw new PolicySyntaxError(file, l.line, column, reason);
  };

  const source = sourceLines(text).map((l) => ({ l, first: firstWord(l) }));
  const legacy = isLegacyDialect(source.map((x) => x.first));
  let strategyLine = 0;
  for (const { l, first } of source) {
    const normal = normalizeLine(l, first, legacy);
    if ("error" in normal) fail(l, normal.column, normal.error);
    const { word, rest, restColumn, owners, orderBy, until } = normal as Exclude<
      typeof normal,
      { error: string }
    >;
    if (until) {
      stops.push(
        compileSiteCondition(until.rest, {
          ...compileOptions,
          loc: { file, line: l.line, column: until.restColumn },
        }),
      );
    }
    const loc = { file, line: l.line, column: restColumn };
    if (!LINE_TYPES.includes(word) && !LEGACY_LINE_TYPES.includes(word)) {
      fail(l, l.column, `unknown line type "${word}"; expected one of ${LINE_TYPES.join(", ")}`);
    }
    switch (word) {
      case "Strategy":
        if (strategyLine) fail(l, l.column, `the strategy is already given on line ${strategyLine}`);
        strategyLine = l.line;
        if (rest === "static") iterative = false;
        if (orderBy !== undefined) {
          if (order !== null) fail(l, l.column, "the order is already given");
          order = parseOrder(`decreasing ${orderBy}`, l, restColumn, file);
        }
        break;
      case "Partition":
        if (partition !== null) fail(l, l.column, "the partition is already given");
        if (rest === "") fail(l, restColumn, "expected a partition name after Partition");
        partition = rest;
        break;
      case "On":
      case "When":
      case "Until": {
        if (rest === "") fail(l, restColumn, `expected a site condition after ${word}`);
        const c = compileSiteCondition(rest, { ...compileOptions, loc });
        (word === "On" ? targets : word === "When" ? triggers : stops).push(c);
        break;
      }
      case "Order":
        if (order !== null) fail(l, l.column, "the order is already given");
        order = parseOrder(rest, l, restColumn, file);
        break;
      case "Algo":
        if (rest.toLowerCase() !== "static") {
          fail(l, restColumn, `expected "Algo Static", got "Algo ${rest}"`);
        }
        iterative = false;
        break;
      default: {
        if (rest === "") {
          if (!ACTIONS.includes(word)) {
            fail(l, l.column, `${word} needs a condition: block actions cannot be the default decision`);
          }
          if (defaultAction !== null) {
            fail(l, l.column, `the default decision is already given on line ${defaultLine}`);
          }
          defaultAction = word as Action;
          defaultLine = l.line;
          break;
        }
        if (defaultAction !== null) {
          fail(
            l,
            l.column,
            `policy lines after the default decision (line ${defaultLine}) would never be reached`,
          );
        }
        const condition = compileReplicaCondition(rest, { ...compileOptions, loc });
        lines.push({
          line: l.line,
          action: word as Action | BlockAction,
          condition: owners ? ownedBy(condition, owners) : condition,
          text: l.text,
        });
      }
    }
  }
  const end = { line: text.split(/\r?\n/).length, text: "", column: 1 };
  if (legacy && targets.length + triggers.length + stops.length === 0) {
    targets.push(compileSiteCondition(LEGACY_SITE_DEFAULTS.On, compileOptions));
    triggers.push(compileSiteCondition(LEGACY_SITE_DEFAULTS.When, compileOptions));
    stops.push(compileSiteCondition(LEGACY_SITE_DEFAULTS.Until, compileOptions));
  }
  const given = options.partition;
  if (given !== undefined) {
    const bad = checkPartitionName(given);
    if (bad) fail(end, 1, `the partition given for this file is ${bad}`);
    if (partition !== null && partition !== given) {
      fail(end, 1, `the file's Partition line names "${partition}" but "${given}" was given for it`);
    }
  }
  const partitionSource = partition !== null ? "file" : "configuration";
  partition ??= given ?? null;
  if (partition === null) {
    fail(
      end,
      1,
      "missing Partition line: give the partition in the Detox configuration or with --partition",
    );
  }
  if (targets.length === 0) fail(end, 1, "missing On line (target sites)");
  if (triggers.length === 0) fail(end, 1, "missing When line (deletion trigger)");
  if (stops.length === 0) fail(end, 1, "missing Until line (stop condition)");
  if (defaultAction === null) {
    fail(end, 1, "missing default decision (a line with just Protect, Delete, Dismiss or Ignore)");
  }
  // 2016 files without an order: candidates went by decreasing usage rank.
  if (legacy && order === null) order = parseOrder("decreasing dataset.usage_rank", end, 1, file);
  const all = [...targets, ...triggers, ...stops, ...lines.map((x) => x.condition)];
  return {
    file,
    text,
    hash: policyHash(text),
    partition: partition!,
    partitionSource,
    targets,
    triggers,
    stops,
    lines,
    defaultAction: defaultAction!,
    defaultLine,
    order: order ?? [],
    iterative,
    variables: [...new Set([...all.flatMap((c) => c.variables), ...(order ?? []).map((k) => k.variable)])],
    attributes: [...new Set(all.flatMap((c) => c.attributes))],
  };
}

function parseOrder(rest: string, l: SourceLine, column: number, file: string): SortKey[] {
  const words = rest.split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 1 && words[0]!.toLowerCase() === "none") return [];
  if (words.length === 0 || words.length % 2 !== 0) {
    throw new PolicySyntaxError(
      file,
      l.line,
      column,
      'expected "none" or pairs of "increasing|decreasing VARIABLE"',
    );
  }
  const keys: SortKey[] = [];
  for (let i = 0; i < words.length; i += 2) {
    const direction = words[i]!;
    const name = words[i + 1]!;
    const at = column + rest.indexOf(words[i]!);
    if (direction !== "increasing" && direction !== "decreasing") {
      throw new PolicySyntaxError(
        file,
        l.line,
        at,
        `expected "increasing" or "decreasing", got "${direction}"`,
      );
    }
    const v = REPLICA_VARIABLES.get(name);
    if (!v || (v.type !== "numeric" && v.type !== "time")) {
      throw new PolicySyntaxError(
        file,
        l.line,
        at,
        `"${name}" is not a numeric or time replica variable to order by`,
      );
    }
    keys.push({
      variable: name,
      direction,
      get: (t) => {
        const value = v.get(t);
        // A list (block-level variable on a dataset replica) orders by its largest value.
        return Array.isArray(value) ? Math.max(...(value as number[]), -Infinity) : value as number;
      },
    });
  }
  return keys;
}

/** `DeleteOwner(G…) COND`: COND, on block replicas owned by one of the groups. */
function ownedBy(c: Condition<ReplicaTarget>, groups: readonly string[]): Condition<ReplicaTarget> {
  const owner = REPLICA_VARIABLES.get("blockreplica.owner")!;
  return {
    text: c.text,
    variables: [...new Set([...c.variables, owner.name])],
    attributes: c.attributes,
    match: (t) => {
      if (!c.match(t)) return false;
      const v = owner.get(t);
      return (Array.isArray(v) ? v : [v]).some((name) => groups.includes(name as string));
    },
  };
}

/** FNV-1a, 64 bits as hex: a stable identifier of the policy text. */
export function policyHash(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}
