import { type Kysely, sql } from "kysely";

/**
 * Runs `;`-separated DDL one statement at a time (prepared statements take one
 * command). A `;` ends a statement only at the end of a line and outside
 * `$$`-quoted bodies (DO blocks, functions).
 */
// deno-lint-ignore no-explicit-any
export async function runStatements(db: Kysely<any>, text: string): Promise<void> {
  for (const statement of splitStatements(text)) await sql.raw(statement).execute(db);
}

export function splitStatements(text: string): string[] {
  const out: string[] = [];
  let current = "";
  let inDollar = false;
  for (const line of text.split("\n")) {
    current += line + "\n";
    inDollar = (line.split("$$").length - 1) % 2 === 1 ? !inDollar : inDollar;
    if (!inDollar && /;\s*$/.test(line)) {
      out.push(current.trim().replace(/;$/, ""));
      current = "";
    }
  }
  if (current.trim()) out.push(current.trim().replace(/;$/, ""));
  return out.filter((s) => s.length > 0);
}
