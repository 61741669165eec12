import { parseArgs, type ParseArgsConfig } from "node:util";
import { CliError } from "./cli_context.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Strict option parsing: unknown options and missing values are usage errors (exit 2). */
export function parse<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new CliError(`${(e as Error).message.split("\n")[0]} (see --help)`, 2);
  }
}

/** Left-aligned text columns. */
export function table(header: string[], rows: (string | number)[][]): string[] {
  const all = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "));
}

/** Bytes with a binary-free SI unit, the way storage is quoted at sites (1 TB = 10^12 B). */
export function humanBytes(n: number): string {
  if (n < 0) return "infinite";
  const units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}
