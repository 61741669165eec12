import { assertEquals, assertStringIncludes } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { serveDynamo } from "../../tests/helpers/served_dynamo.ts";
import type { CliContext } from "./cli_context.ts";
import { runCli } from "./cli.ts";

function cli(url: string) {
  const out: string[] = [];
  const err: string[] = [];
  const ctx = {
    out: (l: string) => out.push(l),
    err: (l: string) => err.push(l),
    env: (name: string) => (name === "DYNAMO_URL" ? url : undefined),
    now: () => 0,
  } as unknown as CliContext;
  return { ctx, out, err };
}

dbTest("dynamo dataset status NAME prints the dataset's work; a hostile name is refused", async ({ db }) => {
  const served = await serveDynamo(db, { fileops: { intervalMs: 0 } });
  try {
    const ok = cli(served.url);
    assertEquals(await runCli(["dataset", "status", "/Some/Data/AOD"], ok.ctx), 0, ok.err.join("\n"));
    assertEquals(ok.out, [
      "Dataset /Some/Data/AOD",
      "Copies: none pending.",
      "Deletions: none pending.",
      "Copy requests: none open.",
      "Deletion requests: none open.",
    ]);
    const bad = cli(served.url);
    assertEquals(await runCli(["dataset", "status", "/a/b/c#blk"], bad.ctx), 1);
    assertStringIncludes(bad.err.join("\n"), 'Parameter "dataset"');
    const usage = cli(served.url);
    assertEquals(await runCli(["dataset", "stat"], usage.ctx), 2);
  } finally {
    await served.close();
  }
});
