/**
 * Enforces the dependency direction of DESIGN.md §4 over our own imports
 * (static and dynamic imports, re-exports, and Worker script URLs).
 * `deno task lint:deps` exits 1 and lists every violating import.
 */
import { dirname, join, normalize, relative } from "node:path";

export interface Violation {
  file: string;
  line: number;
  imports: string;
  rule: string;
}

interface Rule {
  /** The layer: files it applies to. */
  layer: RegExp;
  name: string;
  /** What files of the layer may import (repo-relative paths). */
  allowed: RegExp[];
}

const PORT = /^adapters\/[^/]+\/([^/]+\/)*[^/]+_port\.ts$/;
const MODEL = [/^registry\/inventory\//, /^registry\/requests\//];

/** First matching rule wins. Files no rule matches (tests, tools, bench, main.ts, mod.ts) may import anything. */
export const RULES: Rule[] = [
  {
    name: "actors/runtime imports nothing of ours",
    layer: /^actors\/runtime\//,
    allowed: [/^actors\/runtime\//],
  },
  {
    name: "registry/inventory imports nothing of ours",
    layer: /^registry\/inventory\//,
    allowed: [/^registry\/inventory\//],
  },
  {
    name: "policies import only the inventory model",
    layer: /^policies\//,
    allowed: [/^policies\//, ...MODEL],
  },
  {
    name: "registry/requests imports only the model and policies",
    layer: /^registry\/requests\//,
    allowed: [/^registry\/requests\//, /^registry\/inventory\//, /^policies\//],
  },
  {
    name: "registry/http talks to actors only through its port",
    layer: /^registry\/http\//,
    allowed: [/^registry\/http\//, ...MODEL, /^policies\//],
  },
  {
    name: "actors import policies, the model, the runtime and adapter interfaces (*_port.ts) only",
    layer: /^actors\//,
    allowed: [/^actors\//, ...MODEL, /^policies\//, PORT],
  },
  {
    name: "adapter interfaces (*_port.ts) import only model types",
    layer: PORT,
    allowed: [...MODEL, PORT],
  },
  {
    name: "adapters implement interfaces beside them and import only model types and other interfaces",
    layer: /^adapters\//,
    allowed: [...MODEL, /^actors\/runtime\//, PORT],
  },
];

const EXEMPT = /(_test\.ts$|^tests\/|^tools\/|^bench\/|^main\.ts$|^mod\.ts$)/;

const IMPORT_PATTERNS = [
  /\b(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']/g,
  /\bimport\s*["']([^"']+)["']/g,
  /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  /new URL\(\s*["'](\.{1,2}\/[^"']+)["']\s*,\s*import\.meta\.url\s*\)/g,
];

export async function checkDependencies(root: string): Promise<Violation[]> {
  const violations: Violation[] = [];
  for await (const file of walk(root)) {
    const rel = relative(root, file).replaceAll("\\", "/");
    if (EXEMPT.test(rel)) continue;
    const rule = RULES.find((r) => r.layer.test(rel));
    if (!rule) continue;
    const text = await Deno.readTextFile(file);
    for (const { specifier, line } of importsOf(text)) {
      if (!specifier.startsWith(".")) continue; // npm:, node:, bare specifiers from the import map
      const target = normalize(join(dirname(rel), specifier)).replaceAll("\\", "/");
      // An adapter may use its own folder; an interface file may not (it must stay implementation-free).
      const ownAdapter = rel.match(/^adapters\/[^/]+\//)?.[0];
      if (ownAdapter && rule.layer !== PORT && target.startsWith(ownAdapter)) continue;
      if (!rule.allowed.some((a) => a.test(target))) {
        violations.push({ file: rel, line, imports: target, rule: rule.name });
      }
    }
  }
  return violations.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

function importsOf(text: string): { specifier: string; line: number }[] {
  const out: { specifier: string; line: number }[] = [];
  for (const pattern of IMPORT_PATTERNS) {
    for (const m of text.matchAll(pattern)) {
      out.push({ specifier: m[1]!, line: text.slice(0, m.index).split("\n").length });
    }
  }
  return out;
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walk(path);
    else if (entry.isFile && entry.name.endsWith(".ts")) yield path;
  }
}

if (import.meta.main) {
  const root = Deno.args[0] ?? Deno.cwd();
  const violations = await checkDependencies(root);
  for (const v of violations) {
    console.error(`${v.file}:${v.line}: imports ${v.imports} — ${v.rule}`);
  }
  if (violations.length > 0) {
    console.error(`lint:deps: ${violations.length} import(s) break the dependency direction of DESIGN.md §4`);
    Deno.exit(1);
  }
  console.log("lint:deps: dependency direction OK");
}
