/** Helpers for the JSON configuration files of policies (enforcer rules, Dealer config). */
import { PolicySyntaxError } from "./errors.ts";
import { checkPolicySize } from "./limits.ts";

export function isJsonObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** Parses JSON, placing a syntax error in the file. */
export function parseJsonSource(text: string, file: string): unknown {
  checkPolicySize(text, file);
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

/**
 * Typed access to one JSON object of a configuration file; every mistake goes
 * to `fail` with the key's dotted path (`at` is the prefix, ending in ".").
 */
export function jsonReader(raw: unknown, at: string, fail: (path: string, reason: string) => never) {
  if (!isJsonObject(raw)) fail(at.replace(/\.$/, "") || "(top)", "expected an object");
  const o = raw as Record<string, unknown>;
  return {
    allowKeys(keys: string[]) {
      for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${at}${k}`, "unknown key");
    },
    text(key: string): string {
      const v = o[key];
      if (typeof v !== "string" || v.trim() === "") return fail(`${at}${key}`, "expected a non-empty string");
      return v;
    },
    texts(key: string, fallback?: string[]): string[] {
      const v = o[key];
      if (v === undefined && fallback) return fallback;
      if (!Array.isArray(v) || !v.every((x) => typeof x === "string" && x.trim() !== "")) {
        return fail(`${at}${key}`, "expected a list of strings");
      }
      return v as string[];
    },
    number(key: string, fallback: number | undefined, min: number, max: number): number {
      const v = o[key];
      if (v === undefined && fallback !== undefined) return fallback;
      if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
        return fail(`${at}${key}`, `expected a number from ${min} to ${max}`);
      }
      return v;
    },
    /** An optional string: undefined when absent. */
    optionalText(key: string): string | undefined {
      return o[key] === undefined ? undefined : this.text(key);
    },
    /** An optional number in range: undefined when absent. */
    optionalNumber(key: string, min: number, max: number): number | undefined {
      return o[key] === undefined ? undefined : this.number(key, undefined, min, max);
    },
    /** An optional list of strings: undefined when absent. */
    optionalTexts(key: string): string[] | undefined {
      return o[key] === undefined ? undefined : this.texts(key);
    },
    /** An optional nested object, read with its own dotted prefix: undefined when absent. */
    optionalSection(key: string) {
      return o[key] === undefined ? undefined : jsonReader(this.object(key), `${at}${key}.`, fail);
    },
    boolean(key: string, fallback: boolean): boolean {
      const v = o[key];
      if (v === undefined) return fallback;
      if (typeof v !== "boolean") return fail(`${at}${key}`, "expected true or false");
      return v;
    },
    list(key: string): unknown[] {
      const v = o[key];
      if (v === undefined) return [];
      if (!Array.isArray(v)) return fail(`${at}${key}`, "expected a list");
      return v;
    },
    object(key: string, fallback?: Record<string, unknown>): Record<string, unknown> {
      const v = o[key];
      if (v === undefined && fallback) return fallback;
      if (!isJsonObject(v)) return fail(`${at}${key}`, "expected an object");
      return v as Record<string, unknown>;
    },
  };
}
