import type { CliContext } from "./cli_context.ts";
import { CliError } from "./cli_context.ts";

/**
 * Records to import from a file (or `-` for standard input): a JSON list, or
 * CSV lines with the given columns (`#` comments and blank lines skipped).
 * Columns listed in `numeric` become numbers; the registry validates the rest.
 */
export async function readRecordFile(
  path: string,
  ctx: CliContext,
  columns: readonly string[],
  numeric: readonly string[],
): Promise<unknown> {
  const text = path === "-" ? await ctx.readStdin() : await ctx.readTextFile(path).catch((e) => {
    throw new CliError(`Cannot read ${path}: ${(e as Error).message}`);
  });
  if (text.trimStart().startsWith("[")) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new CliError(`${path} is not valid JSON: ${(e as Error).message}`);
    }
  }
  return text.split(/\r?\n/).map((line, i) => [line, i + 1] as const)
    .filter(([l]) => l.trim() && !l.startsWith("#"))
    .map(([line, n]) => {
      const parts = line.split(",").map((s) => s.trim());
      if (parts.length !== columns.length) throw new CliError(`${path}:${n}: expected ${columns.join(",")}`);
      return Object.fromEntries(
        columns.map((
          c,
          i,
        ) => [c, numeric.includes(c) && /^\d+$/.test(parts[i]!) ? Number(parts[i]) : parts[i]]),
      );
    });
}
