/**
 * Long on purpose (~510 lines): the condition compiler (parse, type-check with positioned
 * errors, evaluate) of the policy language is one recursive grammar; its parts share the node types.
 */
import { compileGlob, compileLinearRegex, RegexError } from "../../registry/inventory/mod.ts";
import { errorAt, INLINE, type SourceLocation } from "./errors.ts";
import { MAX_NESTING } from "./limits.ts";
import { type EvalReplica, type EvalSite, isBlockReplica, type ReplicaTarget } from "./targets.ts";
import { parseTimeExpression } from "./time_expression.ts";
import {
  REPLICA_VARIABLES,
  type ReplicaVariable,
  SITE_VARIABLES,
  type SiteVariable,
  type Value,
  type ValueType,
} from "./variables.ts";

/**
 * The condition language of spec §2.1:
 *
 *   condition := predicate ("and" predicate)*
 *   predicate := VAR | "not" VAR | VAR binop VALUE | VAR ("in"|"notin") "[" ELEM* "]"
 *
 * As in the original, the VALUE of a binary operator is the rest of the
 * predicate (so `blockreplica.owner == IB RelVal` works). Extensions, all
 * optional: `or` (binds looser than `and`), parentheses, and double-quoted
 * values (for values containing ` and `, ` or ` or leading spaces).
 */
export interface CompileOptions {
  loc?: SourceLocation;
  /** "now" for relative dates (the injected clock). */
  nowMs: number;
  /** Shift every date by this many days (what-if simulations). */
  timeShiftDays?: number;
}

export interface Condition<T> {
  readonly text: string;
  /** Variables used, in order of appearance. */
  readonly variables: readonly string[];
  /** Dataset attributes the condition needs from producers. */
  readonly attributes: readonly string[];
  match(target: T): boolean;
}

type Op = "assert" | "negate" | "==" | "!=" | "=~" | "!=~" | "<" | ">" | "in" | "notin" | "doesnotcontain";

interface Variable {
  name: string;
  type: ValueType;
  symbols?: Readonly<Record<string, number>>;
  attribute?: string;
  local?: boolean;
  // deno-lint-ignore no-explicit-any
  get(t: any): Value | readonly Value[];
  anyOf?(r: EvalReplica, test: (v: Value) => boolean): boolean;
}

type Rhs = { kind: "value"; value: Value } | { kind: "regex"; re: { test(s: string): boolean } } | {
  kind: "set";
  items: Rhs[];
} | {
  kind: "none";
};

type Node =
  | { kind: "and" | "or"; items: Node[] }
  | { kind: "pred"; variable: Variable; op: Op; rhs: Rhs };

const BINOPS = ["==", "!=", "=~", "!=~", "<", ">", "older_than", "newer_than"];
const SETOPS = ["in", "notin"];
const OPERATORS = [...BINOPS, ...SETOPS];
/**
 * Operators of earlier versions of the language (docs/policy_language_history.md),
 * read as the current operator of the same meaning. `not in` (two words) is read as `notin`.
 */
const LEGACY_OPERATORS: Readonly<Record<string, string>> = {
  // 2016-08-11: wildcard not-match (`==`/`!=` took wildcards the next day).
  "!~": "!=",
  // 2016-10 to 2017-09: a list variable (replica.owners) has an element matching the value.
  contains: "==",
  doesnotcontain: "doesnotcontain",
};

/** A condition on dataset or block replicas (Detox lines, partitions, enforcer replica rules). */
export function compileReplicaCondition(
  text: string,
  options: CompileOptions & { localOnly?: boolean },
): Condition<ReplicaTarget> {
  return compile<ReplicaTarget>(text, options, (name) => {
    const v: ReplicaVariable | undefined = REPLICA_VARIABLES.get(name);
    if (v && options.localOnly && !v.local) {
      return `variable "${name}" depends on other replicas or on producers and cannot be used here`;
    }
    return v ?? null;
  }, [...REPLICA_VARIABLES.keys()]);
}

/** A condition on site partitions (Detox On/When/Until, Dealer and enforcer site rules). */
export function compileSiteCondition(text: string, options: CompileOptions): Condition<EvalSite> {
  return compile<EvalSite>(
    text,
    options,
    (name) => SITE_VARIABLES.get(name as string) as SiteVariable ?? null,
    [
      ...SITE_VARIABLES.keys(),
    ],
  );
}

function compile<T>(
  text: string,
  options: CompileOptions,
  lookup: (name: string) => Variable | string | null,
  known: string[],
): Condition<T> {
  const loc = options.loc ?? INLINE;
  const p = new Parser(text, loc, options, lookup, known);
  const root = p.parse();
  const variables = [...new Set(p.used.map((v) => v.name))];
  const attributes = [...new Set(p.used.flatMap((v) => (v.attribute ? [v.attribute] : [])))];
  return {
    text,
    variables,
    attributes,
    match: (t: T) => evaluate(root, t),
  };
}

class Parser {
  pos = 0;
  readonly used: Variable[] = [];

  constructor(
    readonly text: string,
    readonly loc: SourceLocation,
    readonly options: CompileOptions,
    readonly lookup: (name: string) => Variable | string | null,
    readonly known: string[],
  ) {}

  fail(at: number, reason: string): never {
    throw errorAt(this.loc, at, reason);
  }

  parse(): Node {
    this.skipSpaces();
    if (this.pos >= this.text.length) {
      this.fail(0, "empty condition: expected a variable such as dataset.name");
    }
    const node = this.parseOr(0);
    this.skipSpaces();
    if (this.pos < this.text.length) {
      this.fail(
        this.pos,
        `unexpected "${this.text[this.pos]}": expected "and", "or" or the end of the condition`,
      );
    }
    return node;
  }

  parseOr(depth: number): Node {
    const items = [this.parseAnd(depth)];
    while (this.keyword("or")) items.push(this.parseAnd(depth));
    return items.length === 1 ? items[0]! : { kind: "or", items };
  }

  parseAnd(depth: number): Node {
    const items = [this.parsePrimary(depth)];
    while (this.keyword("and")) items.push(this.parsePrimary(depth));
    return items.length === 1 ? items[0]! : { kind: "and", items };
  }

  parsePrimary(depth: number): Node {
    this.skipSpaces();
    if (this.text[this.pos] === "(") {
      const open = this.pos;
      // Recursion depth is bounded here, so deep nesting is a syntax error and not a stack overflow.
      if (depth >= MAX_NESTING) this.fail(open, `parentheses nested deeper than ${MAX_NESTING} levels`);
      this.pos += 1;
      const inner = this.parseOr(depth + 1);
      this.skipSpaces();
      if (this.text[this.pos] !== ")") {
        this.fail(this.pos, `expected ")" to close the "(" at column ${this.loc.column + open}`);
      }
      this.pos += 1;
      return inner;
    }
    return this.parsePredicate(depth);
  }

  parsePredicate(depth: number): Node {
    this.skipSpaces();
    let start = this.pos;
    let word = this.word();
    let negate = false;
    if (word === "not") {
      negate = true;
      this.skipSpaces();
      start = this.pos;
      word = this.word();
    }
    if (word === "") {
      this.fail(
        start,
        this.pos >= this.text.length
          ? "expected a variable at the end of the condition"
          : `expected a variable, got "${this.text[start]}"`,
      );
    }
    const found = this.lookup(word);
    if (typeof found === "string") this.fail(start, found);
    if (!found) this.fail(start, `unknown variable "${word}"; expected one of ${this.known.join(", ")}`);
    const variable = found;
    this.used.push(variable);
    this.skipSpaces();
    if (negate || this.atPredicateEnd(depth)) {
      if (variable.type !== "bool") {
        this.fail(
          start,
          negate
            ? `"not" applies to true/false variables; "${word}" is ${describe(variable.type)}`
            : `"${word}" is ${describe(variable.type)}: expected an operator (${
              OPERATORS.join(" ")
            }) after it`,
        );
      }
      if (negate && !this.atPredicateEnd(depth)) {
        this.fail(this.pos, `expected "and", "or" or the end of the condition after "not ${word}"`);
      }
      return { kind: "pred", variable, op: negate ? "negate" : "assert", rhs: { kind: "none" } };
    }
    const opStart = this.pos;
    let opWord = this.word();
    if (opWord === "not" && /^\s+in(\s|\[)/.test(this.text.slice(this.pos))) {
      this.skipSpaces();
      this.pos += 2;
      opWord = "notin";
    }
    const legacy = LEGACY_OPERATORS[opWord];
    if (legacy === "doesnotcontain") {
      this.checkOperator(variable, "!=", opStart);
      this.skipSpaces();
      const at = this.pos;
      const raw = this.value(depth);
      if (raw.text === "") this.fail(at, `expected a value after "${opWord}"`);
      return {
        kind: "pred",
        variable,
        op: "doesnotcontain",
        rhs: this.convert(variable, "==", raw.text, raw.quoted, at),
      };
    }
    // `!~` matched text only, as `!=~` does.
    if (opWord === "!~") this.checkOperator(variable, "!=~", opStart);
    if (legacy !== undefined) opWord = legacy;
    if (!OPERATORS.includes(opWord)) {
      this.fail(opStart, `unknown operator "${opWord}"; expected one of ${OPERATORS.join(" ")}`);
    }
    this.checkOperator(variable, opWord, opStart);
    this.skipSpaces();
    const valueStart = this.pos;
    if (SETOPS.includes(opWord)) {
      return { kind: "pred", variable, op: opWord as Op, rhs: this.parseSet(variable, depth) };
    }
    const raw = this.value(depth);
    if (raw.text === "") this.fail(valueStart, `expected a value after "${opWord}"`);
    const op: Op = opWord === "older_than" ? "<" : opWord === "newer_than" ? ">" : opWord as Op;
    return { kind: "pred", variable, op, rhs: this.convert(variable, op, raw.text, raw.quoted, valueStart) };
  }

  checkOperator(v: Variable, op: string, at: number): void {
    const ok = op === "=~" || op === "!=~"
      ? v.type === "text"
      : op === "older_than" || op === "newer_than"
      ? v.type === "time"
      : op === "<" || op === ">"
      ? v.type === "numeric" || v.type === "time"
      : v.type !== "bool";
    if (!ok) {
      const hint = v.type === "bool" ? ` (write "${v.name}" or "not ${v.name}")` : "";
      this.fail(at, `operator "${op}" does not apply to "${v.name}", which is ${describe(v.type)}${hint}`);
    }
  }

  parseSet(v: Variable, depth: number): Rhs {
    if (this.text[this.pos] !== "[") {
      // 2016-08-10 files wrote the list without brackets (`in T1_*_Disk T2_*`): the rest of the predicate.
      const start = this.pos;
      const raw = this.value(depth);
      if (raw.text === "" || raw.quoted) this.fail(start, `expected "[" starting a list of values`);
      const items: Rhs[] = [];
      for (const m of raw.text.matchAll(/\S+/g)) {
        items.push(this.convert(v, "==", m[0], false, start + m.index));
      }
      return { kind: "set", items };
    }
    this.pos += 1;
    const items: Rhs[] = [];
    for (;;) {
      this.skipSpaces();
      if (this.pos >= this.text.length) this.fail(this.pos, `expected "]" closing the list`);
      if (this.text[this.pos] === "]") {
        this.pos += 1;
        break;
      }
      const start = this.pos;
      let text: string;
      let quoted = false;
      if (this.text[this.pos] === '"') {
        text = this.quoted();
        quoted = true;
      } else {
        while (this.pos < this.text.length && !/[\s\]]/.test(this.text[this.pos]!)) this.pos += 1;
        text = this.text.slice(start, this.pos);
      }
      items.push(this.convert(v, "==", text, quoted, start));
    }
    void depth;
    if (items.length === 0) this.fail(this.pos - 1, "the list is empty: expected at least one value");
    return { kind: "set", items };
  }

  convert(v: Variable, op: Op, text: string, quoted: boolean, at: number): Rhs {
    if (v.symbols) {
      const value = v.symbols[text.toUpperCase()];
      if (value === undefined) {
        this.fail(
          at,
          `"${text}" is not a value of ${v.name}; expected one of ${Object.keys(v.symbols).join(", ")}`,
        );
      }
      return { kind: "value", value };
    }
    switch (v.type) {
      case "numeric": {
        if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
          this.fail(at, `expected a number, got "${text}"`);
        }
        return { kind: "value", value: Number(text) };
      }
      case "time": {
        const seconds = parseTimeExpression(text, this.options.nowMs);
        if (seconds === null) {
          this.fail(
            at,
            `expected a date such as "7 days ago", "3 months ago", "January 1" or "2020-01-31", got "${text}"`,
          );
        }
        return { kind: "value", value: seconds + (this.options.timeShiftDays ?? 0) * 86400 };
      }
      case "text": {
        if (op === "=~" || op === "!=~") {
          try {
            // The original used Python's re.match: anchored at the start only. Linear time, never backtracking.
            return { kind: "regex", re: compileLinearRegex(text, { anchor: "prefix", dotAll: true }) };
          } catch (e) {
            if (!(e instanceof RegexError)) throw e;
            this.fail(at, e.message);
          }
        }
        if (!quoted && (text.includes("*") || text.includes("?"))) {
          return { kind: "regex", re: compileGlob(text) };
        }
        return { kind: "value", value: text };
      }
      case "bool":
        return this.fail(at, "true/false variables take no value");
    }
  }

  /** A raw value: the rest of the predicate, or a quoted string. */
  value(depth: number): { text: string; quoted: boolean } {
    if (this.text[this.pos] === '"') return { text: this.quoted(), quoted: true };
    // 2016 policies quoted wildcard patterns in single quotes ('/*/*/MINIAOD*'): a pattern still.
    const single = /^'([^']*)'/.exec(this.text.slice(this.pos));
    if (single) {
      this.pos += single[0].length;
      return { text: single[1]!, quoted: false };
    }
    const start = this.pos;
    let parens = 0;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (c === "(") parens += 1;
      else if (c === ")") {
        if (parens === 0 && depth > 0) break; // closes the group around this predicate
        parens = Math.max(0, parens - 1);
      } else if (/\s/.test(c) && this.separatorAhead()) break;
      this.pos += 1;
    }
    return { text: this.text.slice(start, this.pos).trim(), quoted: false };
  }

  /** At whitespace: is it followed by `and` or `or` and whitespace (or the end)? */
  separatorAhead(): boolean {
    const m = /^\s+(and|or)(\s|$)/.exec(this.text.slice(this.pos));
    return m !== null;
  }

  quoted(): string {
    const start = this.pos;
    this.pos += 1;
    let out = "";
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (c === "\\" && this.pos + 1 < this.text.length) {
        out += this.text[this.pos + 1];
        this.pos += 2;
        continue;
      }
      if (c === '"') {
        this.pos += 1;
        return out;
      }
      out += c;
      this.pos += 1;
    }
    return this.fail(start, 'unterminated quoted value: expected a closing "');
  }

  atPredicateEnd(depth: number): boolean {
    const rest = this.text.slice(this.pos);
    return rest.trim() === "" || /^(and|or)(\s|$)/.test(rest) || (depth > 0 && rest.startsWith(")"));
  }

  keyword(kw: string): boolean {
    const save = this.pos;
    this.skipSpaces();
    if (
      this.text.startsWith(kw, this.pos) &&
      /^(\s|$|\()/.test(this.text.slice(this.pos + kw.length, this.pos + kw.length + 1) || " ")
    ) {
      const after = this.text.slice(this.pos + kw.length);
      if (after === "") this.fail(this.pos + kw.length, `expected a predicate after "${kw}"`);
      this.pos += kw.length;
      return true;
    }
    this.pos = save;
    return false;
  }

  word(): string {
    const start = this.pos;
    while (this.pos < this.text.length && !/[\s()[\]"]/.test(this.text[this.pos]!)) this.pos += 1;
    return this.text.slice(start, this.pos);
  }

  skipSpaces(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos += 1;
  }
}

function describe(type: ValueType): string {
  return type === "bool"
    ? "true/false"
    : type === "numeric"
    ? "a number"
    : type === "text"
    ? "text"
    : "a time";
}

function evaluate(node: Node, t: unknown): boolean {
  switch (node.kind) {
    case "and":
      for (const item of node.items) if (!evaluate(item, t)) return false;
      return true;
    case "or":
      for (const item of node.items) if (evaluate(item, t)) return true;
      return false;
    case "pred": {
      const anyOf = node.variable.anyOf;
      if (anyOf !== undefined && !isBlockReplica(t as ReplicaTarget)) {
        // A block-replica variable on a dataset replica: the list's values asked one at a time
        // (no list, no view per block replica); the same answers as the list below.
        const rhs = node.rhs;
        const op = node.op;
        if (op === "doesnotcontain") return !anyOf(t as EvalReplica, (x) => same(rhs, x));
        return anyOf(t as EvalReplica, (x) => test(op, rhs, x));
      }
      const lhs = node.variable.get(t);
      if (node.op === "doesnotcontain") {
        return Array.isArray(lhs) ? !lhs.some((x) => same(node.rhs, x)) : !same(node.rhs, lhs as Value);
      }
      // A list (block-replica variable on a dataset replica): true if it holds for any element.
      if (Array.isArray(lhs)) {
        for (const x of lhs) if (test(node.op, node.rhs, x)) return true;
        return false;
      }
      return test(node.op, node.rhs, lhs as Value);
    }
  }
}

function test(op: Op, rhs: Rhs, lhs: Value): boolean {
  switch (op) {
    case "assert":
      return lhs === true;
    case "negate":
      return lhs !== true;
    case "==":
    case "=~":
      return same(rhs, lhs);
    case "!=":
    case "!=~":
      return !same(rhs, lhs);
    case "<":
      return (lhs as number) < ((rhs as { value: number }).value);
    case ">":
      return (lhs as number) > ((rhs as { value: number }).value);
    case "in":
      return (rhs as { items: Rhs[] }).items.some((item) => same(item, lhs));
    case "notin":
      return !(rhs as { items: Rhs[] }).items.some((item) => same(item, lhs));
    case "doesnotcontain":
      return !same(rhs, lhs);
  }
}

function same(rhs: Rhs, lhs: Value): boolean {
  if (rhs.kind === "regex") return typeof lhs === "string" && rhs.re.test(lhs);
  if (rhs.kind === "value") return lhs === rhs.value;
  return false;
}
