/**
 * Rules for names that come from outside. Several of them end up in file
 * system paths, actor addresses and URLs, so they are checked strictly here,
 * once, at the edge of the model.
 */

import { sitePathProblem } from "./site_path.ts";

const MAX_NAME = 500;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export type NameKind = "dataset" | "block" | "lfn" | "site" | "group" | "partition";

/**
 * The last name of each kind found acceptable. A document names the same dataset and site again
 * and again (an injection of 10 dataset replicas with 10 blocks each checks a dataset name 110
 * times and the site 110 times): the checks below are a pure function of kind and name, so a name
 * equal to the last one accepted is accepted again without them.
 */
const lastAccepted: Record<NameKind, string | undefined> = {
  dataset: undefined,
  block: undefined,
  lfn: undefined,
  site: undefined,
  group: undefined,
  partition: undefined,
};

/** Returns the reason a name is unacceptable, or `null` when it is fine. */
export function nameProblem(kind: NameKind, name: unknown): string | null {
  if (typeof name === "string" && lastAccepted[kind] === name) return null;
  const problem = checkName(kind, name);
  if (problem === null) lastAccepted[kind] = name as string;
  return problem;
}

function checkName(kind: NameKind, name: unknown): string | null {
  if (typeof name !== "string") return `expected a string, got ${describeType(name)}`;
  if (name.length === 0) return "must not be empty";
  if (name.length > MAX_NAME) return `must be at most ${MAX_NAME} characters, got ${name.length}`;
  // Printable ASCII (nearly every name) has no control characters and is well-formed NFC: one test.
  if (!PRINTABLE_ASCII.test(name)) {
    if (hasControlCharacters(name)) return `must not contain control characters, got ${JSON.stringify(name)}`;
    const unicode = unicodeProblem(name);
    if (unicode) return unicode;
  }
  switch (kind) {
    case "site":
      return /^[A-Za-z0-9_.-]+$/.test(name) && name !== "." && name !== ".."
        ? null
        : `must contain only letters, digits, "_", "-" and ".", got ${JSON.stringify(name)}`;
    case "lfn":
      // The storage's own rule: an LFN every site would refuse is refused here, at injection.
      return sitePathProblem(name);
    case "dataset":
      if (name.includes("#")) return `must not contain "#", got ${JSON.stringify(name)}`;
      return pathSegmentProblem(name);
    case "block":
      if (name.includes("#") || name.includes("/")) {
        return `must not contain "#" or "/", got ${JSON.stringify(name)}`;
      }
      return name === "." || name === ".." ? `must not be "." or "..", got ${JSON.stringify(name)}` : null;
    case "group":
    case "partition":
      return name.trim() !== name
        ? `must not start or end with whitespace, got ${JSON.stringify(name)}`
        : null;
  }
}

/**
 * Names are compared, indexed and used as paths byte for byte: a lone
 * surrogate would be stored as U+FFFD (another name, and a collision), and two
 * spellings of one name (NFC and NFD) would be two datasets. Names not in NFC
 * are refused rather than normalized, so that the name a client sent is the
 * name it reads back and finds on storage.
 */
export function unicodeProblem(text: string): string | null {
  if (!text.isWellFormed()) {
    return `must be well-formed Unicode (no lone surrogates), got ${JSON.stringify(text)}`;
  }
  // deno-lint-ignore no-control-regex
  if (/[^\u0000-\u007f]/.test(text) && text.normalize("NFC") !== text) {
    return `must be in Unicode normalization form C (NFC), got ${JSON.stringify(text)}`;
  }
  return null;
}

/** C0 and C1 control characters (NUL, newlines, escapes…) have no place in names or text fields. */
export function hasControlCharacters(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

function pathSegmentProblem(name: string): string | null {
  // Segment by segment without splitting (a split was a fifth of parsing an injection).
  for (let start = 0; start <= name.length;) {
    let end = name.indexOf("/", start);
    if (end < 0) end = name.length;
    const length = end - start;
    if (
      (length === 1 || length === 2) && name.charCodeAt(start) === DOT &&
      (length === 1 || name.charCodeAt(start + 1) === DOT)
    ) {
      return `must not contain "." or ".." path segments, got ${JSON.stringify(name)}`;
    }
    start = end + 1;
  }
  return null;
}

const DOT = 0x2e;

export function describeType(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array";
  return typeof x === "object" ? "an object" : `${typeof x} ${JSON.stringify(x)}`;
}

/** Splits `dataset#block`; returns null when the form is wrong. */
export function splitBlockFullName(full: string): [dataset: string, block: string] | null {
  const i = full.indexOf("#");
  if (i <= 0 || i === full.length - 1 || full.indexOf("#", i + 1) >= 0) return null;
  return [full.slice(0, i), full.slice(i + 1)];
}
