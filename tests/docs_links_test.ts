/**
 * The documentation stands on its own: every relative link in README.md and
 * docs/*.md leads to a file of the repository (and, for a `#fragment` into a
 * Markdown file, to one of its headings), no document sends the reader
 * outside the repository (`../shared`, DESIGN.md), and every source file
 * docs/architecture.md names exists.
 */
import { assert, assertEquals } from "./helpers/assert.ts";

const ROOT = new URL("../", import.meta.url);

/** A Markdown link or image target: `[text](target)` or `![alt](target "title")`, outside code. */
export function linkTargets(markdown: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  let fenced = false;
  markdown.split("\n").forEach((text, i) => {
    if (text.trimStart().startsWith("```")) {
      fenced = !fenced;
      return;
    }
    if (fenced) return;
    const prose = text.replace(/`[^`]*`/g, ""); // inline code is not a link
    for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      out.push({ target: m[1]!, line: i + 1 });
    }
  });
  return out;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const text of markdown.split("\n")) {
    if (text.trimStart().startsWith("```")) fenced = !fenced;
    const m = !fenced && text.match(/^#{1,6}\s+(.*?)\s*#*\s*$/);
    if (!m) continue;
    const base = m[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

async function readIfFile(url: URL): Promise<string | null> {
  try {
    return (await Deno.stat(url)).isFile ? await Deno.readTextFile(url) : "";
  } catch {
    return null;
  }
}

/** Broken relative links of one document (`doc` is repository-relative), as "doc:line: target (why)". */
export async function brokenLinks(doc: string, markdown: string, root: URL = ROOT): Promise<string[]> {
  const broken: string[] = [];
  const docUrl = new URL(doc, root);
  for (const { target, line } of linkTargets(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not ours to check offline
    const [path, fragment] = target.split("#", 2) as [string, string | undefined];
    const url = path === "" ? docUrl : new URL(decodeURI(path), docUrl);
    if (!url.href.startsWith(root.href)) {
      broken.push(`${doc}:${line}: ${target} (outside the repository)`);
      continue;
    }
    const text = path === "" ? markdown : await readIfFile(url);
    if (text === null) {
      broken.push(`${doc}:${line}: ${target} (no such file)`);
    } else if (fragment && url.pathname.endsWith(".md") && !headingAnchors(text).has(fragment)) {
      broken.push(`${doc}:${line}: ${target} (no heading #${fragment})`);
    }
  }
  return broken;
}

async function documents(): Promise<string[]> {
  const docs = ["README.md"];
  for await (const e of Deno.readDir(new URL("docs/", ROOT))) {
    if (e.isFile && e.name.endsWith(".md")) docs.push(`docs/${e.name}`);
  }
  return docs.sort();
}

Deno.test("the link checker finds a missing file, a missing heading and a way out of the repository", async () => {
  const sample = [
    "# Title",
    "## Sub part",
    "[ok](#sub-part) [ok too](docs/architecture.md#layout) [web](https://example.org/x)",
    "[gone](docs/no_such_page.md) [bad anchor](#nowhere) `[code](not/a/link.md)`",
    "![out](../../elsewhere.png)",
    "```",
    "[fenced](not/a/link.md)",
    "```",
  ].join("\n");
  assertEquals(await brokenLinks("README.md", sample), [
    "README.md:4: docs/no_such_page.md (no such file)",
    "README.md:4: #nowhere (no heading #nowhere)",
    "README.md:5: ../../elsewhere.png (outside the repository)",
  ]);
});

Deno.test("every relative link in README.md and docs/*.md leads to a file and heading of the repository", async () => {
  const docs = await documents();
  assert(docs.includes("docs/architecture.md"), "docs/architecture.md exists");
  const broken: string[] = [];
  for (const doc of docs) broken.push(...await brokenLinks(doc, await Deno.readTextFile(new URL(doc, ROOT))));
  assertEquals(broken, []);
});

Deno.test("no document refers to files outside the repository (../shared, DESIGN.md)", async () => {
  const found: string[] = [];
  for (const doc of await documents()) {
    const lines = (await Deno.readTextFile(new URL(doc, ROOT))).split("\n");
    lines.forEach((text, i) => {
      if (/\.\.\/shared|\bDESIGN\.md\b/.test(text)) found.push(`${doc}:${i + 1}: ${text.trim()}`);
    });
  }
  assertEquals(found, []);
});

Deno.test("every source path docs/architecture.md names exists", async () => {
  const text = await Deno.readTextFile(new URL("docs/architecture.md", ROOT));
  const named = new Set<string>();
  for (const m of text.matchAll(/`([a-z_]+(?:\/[a-z_*.]+)+\/?)`/g)) {
    if (!m[1]!.includes("*")) named.add(m[1]!);
  }
  assert(named.size >= 20, `architecture.md names ${named.size} paths`);
  const missing: string[] = [];
  for (const path of named) {
    if ((await readIfFile(new URL(path, ROOT))) === null) missing.push(path);
  }
  assertEquals(missing, []);
});

Deno.test("the README is an introduction: under 20 kB, and its first commands are the demo and the tests", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const bytes = new TextEncoder().encode(readme).length;
  assert(bytes < 20_000, `README.md is ${bytes} bytes; reference belongs in docs/`);
  // .ci/run runs "the README's first command" (the demo) and its test command as a new user would.
  const firstBlock = readme.match(/```sh\n([\s\S]*?)```/)?.[1] ?? "";
  const commands = firstBlock.split("\n").map((l) => l.replace(/#.*/, "").trim()).filter((l) => l);
  assertEquals(commands, ["deno task demo", "deno task test"]);
});
