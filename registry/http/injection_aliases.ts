/**
 * The original `dynamo-inject --group` sends the groups of an injection or
 * invalidation under a misspelt key, `gruop`. It is accepted as a deprecated
 * alias of `group` (the caller logs it), so that client keeps working.
 */
import { BadRequest } from "./errors.ts";

export const DEPRECATED_KEYS: Readonly<Record<string, string>> = { gruop: "group" };

/** The document with deprecated keys renamed, and the deprecated keys it used. */
export function renameDeprecatedKeys(doc: unknown): { doc: unknown; deprecated: string[] } {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return { doc, deprecated: [] };
  const deprecated = Object.keys(doc).filter((k) => Object.hasOwn(DEPRECATED_KEYS, k));
  if (deprecated.length === 0) return { doc, deprecated };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    const name = DEPRECATED_KEYS[key] ?? key;
    if (Object.hasOwn(out, name)) {
      throw new BadRequest(key, `give the list once, under "${name}" ("${key}" is its deprecated spelling)`);
    }
    out[name] = value;
  }
  return { doc: out, deprecated };
}
