/**
 * The patterns a client may send as query parameters, compiled in one place
 * so that the matching engine can be swapped (issue 21 asks for a linear-time
 * one) without touching the routes.
 */
import { compileGlob } from "../inventory/mod.ts";
import { prefixRegex } from "../inventory/reads/inventory_stats.ts";
import { BadRequest } from "./errors.ts";

export type Matcher = (value: string) => boolean;

/**
 * A regular expression matched at the start of the value, as the original's
 * Python `re.match`. A malformed one is a 400 naming the parameter.
 */
export function regexParam(name: string, text: string): Matcher {
  try {
    return prefixRegex(text);
  } catch (e) {
    throw new BadRequest(name, `not a regular expression: ${(e as Error).message}`);
  }
}

/** A name or a wildcard (`*` any run, `?` one character). */
export function globParam(text: string): Matcher {
  const re = compileGlob(text);
  return (value) => re.test(value);
}
