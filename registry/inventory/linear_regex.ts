/**
 * Every regular expression that comes from outside the code (policy lines,
 * filename mappings, query parameters) is compiled here, into RE2JS: a port
 * of RE2 whose matching time is linear in the input (an automaton, never
 * backtracking). `(a+)+b` against 30 a's took the native engine 25–30 s and
 * doubled with each character; here it is a fraction of a millisecond.
 *
 * RE2 syntax is Python's (what the original's policy authors wrote) minus the
 * constructs no automaton can run: backreferences and lookaround are refused
 * at compile time with a reason a person can act on. A program-size limit
 * bounds the per-character cost too.
 */
import { RE2JS } from "re2js";

/** Longest accepted pattern, in characters. */
export const MAX_REGEX_LENGTH = 1000;
/** Largest compiled program (RE2 instructions); the original CMS policies stay under 50. */
export const MAX_REGEX_PROGRAM = 2000;

/**
 * How a pattern is anchored: `prefix` = at the start only (Python's
 * `re.match`, as the policy language), `whole` = the whole input (filename
 * mappings).
 */
export type RegexAnchor = "prefix" | "whole";

export interface LinearRegexOptions {
  anchor: RegexAnchor;
  /** `.` matches newlines too. */
  dotAll?: boolean;
}

/**
 * A pattern the linear-time engine refuses. The message is `invalid regular
 * expression "PATTERN": REASON`; callers add where it came from.
 */
export class RegexError extends SyntaxError {
  constructor(readonly pattern: string, readonly reason: string) {
    super(`invalid regular expression ${JSON.stringify(pattern)}: ${reason}`);
    this.name = "RegexError";
  }
}

export interface LinearRegex {
  readonly source: string;
  /** Whether the input matches (anchored as compiled). */
  test(input: string): boolean;
  /** The whole match and the capture groups (undefined for a group that took no part), or null. */
  exec(input: string): (string | undefined)[] | null;
}

const cache = new Map<string, LinearRegex>();
const CACHE_SIZE = 500;

/** Compiles (or returns the cached compilation of) a pattern; throws `RegexError`. */
export function compileLinearRegex(source: string, options: LinearRegexOptions): LinearRegex {
  const key = `${options.anchor}${options.dotAll ? "s" : ""}:${source}`;
  let re = cache.get(key);
  if (re) return re;
  re = build(source, options);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, re);
  return re;
}

/** The reason a pattern cannot be used, or null when it compiles. */
export function regexProblem(
  source: string,
  options: LinearRegexOptions = { anchor: "prefix" },
): string | null {
  try {
    compileLinearRegex(source, options);
    return null;
  } catch (e) {
    if (e instanceof RegexError) return e.message;
    throw e;
  }
}

function build(source: string, options: LinearRegexOptions): LinearRegex {
  if (source.length > MAX_REGEX_LENGTH) {
    throw new RegexError(source.slice(0, 40) + "…", `longer than ${MAX_REGEX_LENGTH} characters`);
  }
  const unsupported = unsupportedConstruct(source);
  if (unsupported) throw new RegexError(source, unsupported);
  // The pattern goes in a non-capturing group so that its alternatives stay under the anchors.
  const wrapped = options.anchor === "whole" ? `^(?:${source})$` : `^(?:${source})`;
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(wrapped, options.dotAll ? RE2JS.DOTALL : 0);
  } catch (e) {
    throw new RegexError(source, describe(e));
  }
  if (compiled.programSize() > MAX_REGEX_PROGRAM) {
    throw new RegexError(
      source,
      `too large (${compiled.programSize()} instructions, ` +
        `at most ${MAX_REGEX_PROGRAM}); use fewer or smaller repetition counts`,
    );
  }
  return {
    source,
    test: (input) => compiled.test(input),
    exec(input) {
      const m = compiled.exec(input);
      return m ? Array.from(m) : null;
    },
  };
}

/**
 * Names a construct that has no linear-time implementation, so that the
 * message says what to change instead of RE2's terse "invalid escape".
 */
function unsupportedConstruct(source: string): string | null {
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      const next = source[i + 1] ?? "";
      if (/[1-9]/.test(next) || (next === "k" && source[i + 2] === "<")) {
        return `backreferences such as "\\${next}" are not supported: ` +
          `patterns are matched in linear time (RE2 syntax), which excludes them`;
      }
      i += 1; // skip the escaped character (an escaped "(" opens nothing)
    } else if (c === "[") {
      // Inside a character class "(" is literal: skip to its end.
      let j = i + 1;
      if (source[j] === "^") j++;
      if (source[j] === "]") j++;
      while (j < source.length && source[j] !== "]") j += source[j] === "\\" ? 2 : 1;
      i = j;
    } else if (c === "(" && source[i + 1] === "?") {
      const rest = source.slice(i + 2, i + 4);
      const look = ["=", "!", "<=", "<!"].find((h) => rest.startsWith(h));
      if (look !== undefined) {
        return `lookaround "(?${look}" is not supported: ` +
          `patterns are matched in linear time (RE2 syntax), which excludes lookahead and lookbehind`;
      }
      if (rest === "P=") {
        return `backreferences such as "(?P=name)" are not supported: ` +
          `patterns are matched in linear time (RE2 syntax), which excludes them`;
      }
    }
  }
  return null;
}

function describe(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/^error parsing regexp: /, "");
}
