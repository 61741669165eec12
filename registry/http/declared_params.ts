/**
 * Unknown parameters are a 400 on every endpoint (issue 21), decided in one
 * place: the OpenAPI document is the declaration of each operation's
 * parameters, and this middleware refuses a query-string key it does not
 * declare. Routes that read form or JSON parameters check those keys again
 * with `parseParams`, against the same names.
 */
import type { MiddlewareHandler } from "hono";
import { BadRequest } from "./errors.ts";

interface Operation {
  parameters?: readonly { name: string }[];
  [detail: string]: unknown;
}

type Paths = Record<string, Record<string, Operation>>;

/** "GET /data/x" → the parameter names it declares. */
export type Declarations = Map<string, ReadonlySet<string>>;

export function declarations(paths: Paths): Declarations {
  const out: Declarations = new Map();
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(operations)) {
      out.set(`${method.toUpperCase()} ${path}`, new Set((op.parameters ?? []).map((p) => p.name)));
    }
  }
  return out;
}

/**
 * The first key an operation does not declare, or null. `key[]` is the
 * original clients' list form of `key`. Paths the document does not know
 * (answered 404 later) are not judged here.
 */
export function undeclaredKey(
  declared: Declarations,
  method: string,
  path: string,
  keys: Iterable<string>,
): { key: string; expected: string[] } | null {
  const names = declared.get(`${method === "HEAD" ? "GET" : method} ${path}`);
  if (!names) return null;
  for (const raw of keys) {
    const key = raw.endsWith("[]") ? raw.slice(0, -2) : raw;
    if (!names.has(key)) return { key, expected: [...names] };
  }
  return null;
}

/** Refuses undeclared query parameters with a 400 naming the first one. */
export function rejectUndeclaredParams(paths: Paths): MiddlewareHandler {
  const declared = declarations(paths);
  return async (c, next) => {
    const url = new URL(c.req.url);
    const bad = undeclaredKey(declared, c.req.method, url.pathname, url.searchParams.keys());
    if (bad) {
      throw new BadRequest(
        bad.key,
        `unknown parameter; expected ${bad.expected.length ? `one of ${bad.expected.join(", ")}` : "none"}`,
      );
    }
    await next();
  };
}
