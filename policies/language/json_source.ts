/** Helpers for the JSON configuration files of policies (enforcer rules, Dealer config). */
import { PolicySyntaxError } from "./errors.ts";

export function isJsonObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** Parses JSON, placing a syntax error in the file. */
export function parseJsonSource(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new PolicySyntaxError(file, 1, 1, `malformed JSON: ${(e as Error).message}`);
  }
}

/**
 * Best-effort line of the first mention of the last key of a path, for error
 * positions in JSON (the parser does not keep positions).
 */
export function lineOfKey(text: string, path: string): number {
  const last = path.split(".").at(-1)!;
  const i = text.indexOf(`"${last}"`);
  return i < 0 ? 1 : text.slice(0, i).split("\n").length;
}
