/**
 * Rules for names that come from outside. Several of them end up in file
 * system paths, actor addresses and URLs, so they are checked strictly here,
 * once, at the edge of the model.
 */

import { sitePathProblem } from "./site_path.ts";

const MAX_NAME = 500;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Returns the reason a name is unacceptable, or `null` when it is fine. */
export function nameProblem(
  kind: "dataset" | "block" | "lfn" | "site" | "group" | "partition",
  name: unknown,
): string | null {
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
  for (const segment of name.split("/")) {
    if (segment === "." || segment === "..") {
      return `must not contain "." or ".." path segments, got ${JSON.stringify(name)}`;
    }
  }
  return null;
}

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
