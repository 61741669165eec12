import { describeType, hasControlCharacters } from "../inventory/mod.ts";
import { BadRequest } from "./errors.ts";

/** Raw request input: every key maps to its values (`item[]=a&item[]=b` → `item: ["a","b"]`). */
export type RawParams = Map<string, string[]>;

/** `many`: repeated keys, each value as given (no comma splitting: a regex may hold commas). */
export type ParamKind = "text" | "list" | "many" | "int" | "yn";

export interface ParamSpec {
  kind: ParamKind;
  required?: boolean;
}

export type ParamValues<S extends Record<string, ParamSpec>> = {
  [K in keyof S]?: S[K]["kind"] extends "list" | "many" ? string[] : S[K]["kind"] extends "int" ? number
  : S[K]["kind"] extends "yn" ? boolean
  : string;
};

const MAX_VALUE = 1000;
const MAX_LIST = 10_000;

/**
 * Reads query string, form fields and (for non-document endpoints) a JSON
 * object body into one map, the way the original registry accepted input.
 */
export async function collectParams(req: Request, url: URL, readBody: boolean): Promise<RawParams> {
  const params: RawParams = new Map();
  const add = (key: string, value: unknown) => {
    const name = key.endsWith("[]") ? key.slice(0, -2) : key;
    const values = params.get(name) ?? [];
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v === "string") values.push(v);
      else if (typeof v === "number" || typeof v === "boolean") values.push(String(v));
      else throw new BadRequest(name, `expected text, got ${describeType(v)}`);
    }
    params.set(name, values);
  };
  for (const [k, v] of url.searchParams) add(k, v);
  if (!readBody || req.method === "GET" || req.method === "HEAD") return params;
  const type = req.headers.get("content-type") ?? "";
  if (type.includes("application/json")) {
    const body = await readJson(req);
    if (body === null) return params;
    if (typeof body !== "object" || Array.isArray(body)) {
      throw new BadRequest("body", `expected a JSON object of parameters, got ${describeType(body)}`);
    }
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) add(k, v);
  } else if (type.includes("application/x-www-form-urlencoded") || type.includes("multipart/form-data")) {
    const form = await req.formData().catch(() => {
      throw new BadRequest("body", "malformed form data");
    });
    for (const [k, v] of form) add(k, typeof v === "string" ? v : "");
  }
  return params;
}

/** Parses a JSON body; malformed JSON is a 400 naming the body. */
export async function readJson(req: Request): Promise<unknown> {
  const text = await req.text();
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BadRequest("body", `malformed JSON: ${(e as Error).message}`);
  }
}

/**
 * Checks raw input against the endpoint's parameters: unknown parameters,
 * missing required ones, wrong types, control characters and oversized values
 * are 400s naming the parameter.
 */
export function parseParams<S extends Record<string, ParamSpec>>(raw: RawParams, spec: S): ParamValues<S> {
  const out: Record<string, unknown> = {};
  for (const key of raw.keys()) {
    if (!(key in spec)) {
      throw new BadRequest(
        key,
        `unknown parameter; expected one of ${Object.keys(spec).join(", ") || "none"}`,
      );
    }
  }
  for (const [name, p] of Object.entries(spec)) {
    const values = raw.get(name);
    if (!values || values.length === 0) {
      if (p.required) throw new BadRequest(name, "is required");
      continue;
    }
    if (values.length > MAX_LIST) throw new BadRequest(name, `at most ${MAX_LIST} values`);
    for (const v of values) {
      if (v.length > MAX_VALUE) throw new BadRequest(name, `values must be at most ${MAX_VALUE} characters`);
      if (hasControlCharacters(v)) throw new BadRequest(name, "must not contain control characters");
    }
    if (p.kind === "list") {
      // Lists come as repeated keys, `key[]`, or a comma-separated value.
      out[name] = values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v.length > 0);
      continue;
    }
    if (p.kind === "many") {
      out[name] = values;
      continue;
    }
    if (values.length > 1) throw new BadRequest(name, "must be given once");
    const v = values[0]!;
    switch (p.kind) {
      case "text":
        out[name] = v;
        break;
      case "int":
        if (!/^-?\d{1,15}$/.test(v)) {
          throw new BadRequest(name, `expected an integer, got ${JSON.stringify(v)}`);
        }
        out[name] = Number(v);
        break;
      case "yn":
        if (!["y", "n"].includes(v)) throw new BadRequest(name, `expected y or n, got ${JSON.stringify(v)}`);
        out[name] = v === "y";
        break;
    }
  }
  return out as ParamValues<S>;
}

/** One element of a list parameter that must be a non-negative integer (an id). */
export function intParam(name: string, value: string): number {
  if (!/^\d{1,12}$/.test(value)) {
    throw new BadRequest(name, `expected an integer, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}
