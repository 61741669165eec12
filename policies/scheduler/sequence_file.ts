/**
 * Sequence files in the original scheduler's format (spec §7; CMS's
 * `cms.seq`): application definitions, then named sequences of steps.
 *
 *   {siteinfo} = $(DYNAMO_BASE)/exec/siteinfo      read-only application
 *   <detox> = $(DYNAMO_BASE)/exec/detox_cms         application that writes the inventory
 *   [SEQUENCE detox] restart                         `restart`: always start again at the first step
 *   | <update_popularity> --crabaccess               on failure: ignore and go on
 *   & <detox> --policy Physics.txt                   on failure: retry the same step
 *   ^ [2] <dealer> --config dealer.json              on failure: restart the sequence; [2] = 2 h timeout
 *   WAIT 3600*4                                      seconds, an arithmetic expression
 *   TERMINATE                                        the sequence ends here
 *
 * `#` starts a comment line. Everything else is an error that names the file,
 * the line and the problem; nothing is half-accepted.
 */
import { PolicySyntaxError } from "../language/errors.ts";
import { checkPolicySize } from "../language/limits.ts";

export type OnFailure = "restart" | "retry" | "ignore";

export interface AppDefinition {
  title: string;
  path: string;
  /** `<title>`: may write the inventory (one writer at a time); `{title}`: read-only. */
  write: boolean;
  line: number;
}

export type SequenceStep =
  | {
    kind: "run";
    app: string;
    args: string[];
    onFailure: OnFailure;
    /** Hours; null = the scheduler's default. */
    timeoutHours: number | null;
    line: number;
  }
  | { kind: "wait"; seconds: number; line: number }
  | { kind: "terminate"; line: number };

export interface SequenceDefinition {
  name: string;
  restart: boolean;
  steps: SequenceStep[];
  line: number;
}

export interface SequenceFile {
  apps: Map<string, AppDefinition>;
  sequences: SequenceDefinition[];
}

const TITLE = "[A-Za-z0-9_][A-Za-z0-9_.-]*";
const APP_LINE = new RegExp(`^(\\{(${TITLE})\\}|<(${TITLE})>)\\s*=\\s*(.*)$`);
const HEADER = new RegExp(`^\\[SEQUENCE\\s+(${TITLE})\\s*\\](?:\\s+(\\S+))?\\s*$`);
const STEP = new RegExp(
  `^([\\^&|])\\s*(?:\\[\\s*([^\\]]*)\\]\\s*)?(\\{(${TITLE})\\}|<(${TITLE})>)(?:\\s+(.*))?$`,
);
const FAILURE: Record<string, OnFailure> = { "^": "restart", "&": "retry", "|": "ignore" };
/** Longer is a typo, not a schedule (the CMS file waits at most two weeks). */
const MAX_WAIT_SECONDS = 60 * 86400;

export function parseSequenceFile(text: string, file = "<text>"): SequenceFile {
  if (typeof text !== "string") throw new PolicySyntaxError(file, 1, 1, "a sequence file must be text");
  checkPolicySize(text, file);
  const apps = new Map<string, AppDefinition>();
  const sequences: SequenceDefinition[] = [];
  const fail = (line: number, reason: string): never => {
    throw new PolicySyntaxError(file, line, 1, reason);
  };
  let current: SequenceDefinition | null = null;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    if (raw.includes("\0")) fail(line, "NUL character");
    const body = raw.trim();
    if (body === "" || body.startsWith("#")) return;
    const app = APP_LINE.exec(body);
    if (app) {
      const title = (app[2] ?? app[3])!;
      const path = app[4]!.trim();
      if (current) {
        fail(line, `application ${title} is defined inside [SEQUENCE ${current.name}]; define it above`);
      }
      if (path === "") fail(line, `application ${title} has no path`);
      if (apps.has(title)) {
        fail(line, `application ${title} is defined twice (first on line ${apps.get(title)!.line})`);
      }
      apps.set(title, { title, path, write: app[3] !== undefined, line });
      return;
    }
    if (body.startsWith("[")) {
      const header = HEADER.exec(body);
      if (!header) fail(line, `expected [SEQUENCE name], got ${JSON.stringify(body)}`);
      const [, name, option] = header!;
      if (option !== undefined && option !== "restart") {
        fail(line, `unknown sequence option ${JSON.stringify(option)} (only "restart")`);
      }
      const twice = sequences.find((s) => s.name === name);
      if (twice) fail(line, `sequence ${name} is defined twice (first on line ${twice.line})`);
      current = { name: name!, restart: option === "restart", steps: [], line };
      sequences.push(current);
      return;
    }
    if (!current) fail(line, `${JSON.stringify(body)} is outside any [SEQUENCE name]`);
    const sequence = current!;
    const word = body.split(/\s+/, 1)[0]!;
    if (word === "WAIT") {
      const expression = body.slice(4).trim();
      if (expression === "") fail(line, "WAIT needs a number of seconds");
      let seconds = 0;
      try {
        seconds = evaluateSeconds(expression);
      } catch (e) {
        fail(line, `WAIT ${expression}: ${(e as Error).message}`);
      }
      if (!(seconds > 0) || seconds > MAX_WAIT_SECONDS) {
        fail(line, `WAIT must be more than 0 and at most ${MAX_WAIT_SECONDS} seconds, got ${seconds}`);
      }
      sequence.steps.push({ kind: "wait", seconds, line });
      return;
    }
    if (word === "TERMINATE") {
      if (body !== "TERMINATE") fail(line, "TERMINATE takes nothing after it");
      sequence.steps.push({ kind: "terminate", line });
      return;
    }
    const step = STEP.exec(body);
    if (!step) {
      fail(
        line,
        `expected "^", "&" or "|" and an application, WAIT or TERMINATE, got ${JSON.stringify(body)}`,
      );
    }
    const [, crit, timeout, , readTitle, writeTitle, args] = step!;
    const title = (readTitle ?? writeTitle)!;
    const definition = apps.get(title);
    if (!definition) fail(line, `application ${title} is not defined`);
    if (definition!.write !== (writeTitle !== undefined)) {
      fail(
        line,
        `application ${title} is defined ${definition!.write ? "<write>" : "{read-only}"} on line ${
          definition!.line
        }; call it the same way`,
      );
    }
    let timeoutHours: number | null = null;
    if (timeout !== undefined) {
      timeoutHours = Number(timeout.trim());
      if (timeout.trim() === "" || !Number.isFinite(timeoutHours) || timeoutHours <= 0) {
        fail(line, `the timeout in [${timeout}] must be a positive number of hours`);
      }
    }
    sequence.steps.push({
      kind: "run",
      app: title,
      args: args === undefined ? [] : args.trim().split(/\s+/),
      onFailure: FAILURE[crit!]!,
      timeoutHours,
      line,
    });
  });
  for (const s of sequences) {
    if (s.steps.length === 0) throw new PolicySyntaxError(file, s.line, 1, `sequence ${s.name} has no steps`);
  }
  return { apps, sequences };
}

/** Integers with + - * / and parentheses (as `WAIT 3600*4`); nothing else is evaluated. */
export function evaluateSeconds(expression: string): number {
  const tokens = expression.match(/\d+(?:\.\d+)?|[-+*/()]|\S/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const sum = (): number => {
    let value = product();
    while (peek() === "+" || peek() === "-") {
      value = tokens[at++] === "+" ? value + product() : value - product();
    }
    return value;
  };
  const product = (): number => {
    let value = factor();
    while (peek() === "*" || peek() === "/") {
      const op = tokens[at++];
      const right = factor();
      if (op === "/" && right === 0) throw new Error("division by zero");
      value = op === "*" ? value * right : value / right;
    }
    return value;
  };
  const factor = (): number => {
    const token = tokens[at++];
    if (token === "(") {
      const value = sum();
      if (tokens[at++] !== ")") throw new Error("missing )");
      return value;
    }
    if (token === "-") return -factor();
    if (token !== undefined && /^\d/.test(token)) return Number(token);
    throw new Error(
      token === undefined ? "the expression ends too early" : `unexpected ${JSON.stringify(token)}`,
    );
  };
  const value = sum();
  if (at !== tokens.length) throw new Error(`unexpected ${JSON.stringify(tokens[at])}`);
  return value;
}
