/** Query parameters of the pages: checked like the REST API's (a clear 400 naming the parameter). */
import { WebInputError } from "./web_input_error.ts";

const MAX_TEXT = 1000;

export function textParam(url: URL, name: string): string | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === "") return undefined;
  if (v.length > MAX_TEXT) throw new WebInputError(`Parameter "${name}": longer than ${MAX_TEXT} characters`);
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(v)) throw new WebInputError(`Parameter "${name}": control characters`);
  return v;
}

export function intParam(url: URL, name: string, max = 2 ** 53 - 1): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === "") return undefined;
  if (!/^\d{1,16}$/.test(v) || Number(v) > max) {
    throw new WebInputError(
      `Parameter "${name}": expected a whole number up to ${max}, got ${JSON.stringify(v.slice(0, 50))}`,
    );
  }
  return Number(v);
}

export function oneOf<T extends string>(url: URL, name: string, values: readonly T[]): T | undefined {
  const v = textParam(url, name);
  if (v === undefined) return undefined;
  if (!values.includes(v as T)) {
    throw new WebInputError(
      `Parameter "${name}": expected ${values.join(", ")}, got ${JSON.stringify(v.slice(0, 50))}`,
    );
  }
  return v as T;
}
