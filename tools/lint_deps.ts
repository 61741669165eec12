/**
 * Enforces the dependency rules of docs/architecture.md over our own imports
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
/** Everything of ours except the programs built on service/ and the CLI entry. */
const BELOW_PROGRAMS = /^(?!main\.ts$|demo\/|simulate\/|bench\/)/;

/**
 * docs/architecture.md (Dependency rules), bottom to top; the first rule whose layer matches a file applies.
 * Tests (`*_test.ts`, `tests/`) and `tools/` are not product code and may import anything;
 * every other file belongs to a layer (an unknown place is itself a violation).
 */
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
    name: "registry/requests imports only registry/inventory",
    layer: /^registry\/requests\//,
    allowed: [/^registry\/requests\//, /^registry\/inventory\//],
  },
  {
    name: "policies import the model and each other",
    layer: /^policies\//,
    allowed: [/^policies\//, ...MODEL],
  },
  {
    name: "actors import policies, the model, the runtime and adapter interfaces (*_port.ts) only",
    layer: /^actors\//,
    allowed: [/^actors\//, ...MODEL, /^policies\//, PORT],
  },
  {
    name: "registry/http imports the model, input helpers of policies/language and its own interfaces",
    layer: /^registry\/http\//,
    allowed: [/^registry\/http\//, ...MODEL, /^policies\/language\//],
  },
  {
    name: "adapter interfaces (*_port.ts) import only model types and other interfaces",
    layer: PORT,
    allowed: [...MODEL, PORT],
  },
  {
    name: "adapters implement interfaces beside them and import only model types and interfaces",
    layer: /^adapters\//,
    allowed: [...MODEL, PORT],
  },
  {
    name: "service/ wires everything below it, never the CLI entry or the programs built on it",
    layer: /^service\//,
    allowed: [BELOW_PROGRAMS],
  },
  {
    name: "mod.ts exports from service/ and the layers below, never from main.ts",
    layer: /^mod\.ts$/,
    allowed: [BELOW_PROGRAMS],
  },
  {
    name: "main.ts hands over to service/ and adapters/cli, never to the programs",
    layer: /^main\.ts$/,
    allowed: [/^(?!demo\/|simulate\/|bench\/)/],
  },
  {
    name: "demo/, simulate/ and bench/ build on service/, not on the CLI entry",
    layer: /^(demo|simulate|bench)\//,
    allowed: [/^(?!main\.ts$)/],
  },
  {
    name: "a file outside the layers of docs/architecture.md imports nothing of ours",
    layer: /./,
    allowed: [],
  },
];

const NOT_PRODUCT = /(_test\.tsx?$|^tests\/|^tools\/|^scratch\/)/;

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
    if (NOT_PRODUCT.test(rel)) continue;
    const rule = RULES.find((r) => r.layer.test(rel))!;
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
    else if (entry.isFile && /\.tsx?$/.test(entry.name)) yield path;
  }
}

if (import.meta.main) {
  const root = Deno.args[0] ?? Deno.cwd();
  const violations = await checkDependencies(root);
  for (const v of violations) {
    console.error(`${v.file}:${v.line}: imports ${v.imports} — ${v.rule}`);
  }
  if (violations.length > 0) {
    console.error(`lint:deps: ${violations.length} import(s) break docs/architecture.md's dependency rules`);
    Deno.exit(1);
  }
  console.log("lint:deps: dependency direction OK");
}
