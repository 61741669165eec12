/**
 * The README's first command as a new user runs it: from a fresh copy of the
 * repository, with no `DYNAMO_*` variable set, and with a relative
 * `DYNAMO_HOME` (which once became `file://.dynamo/…` backends, read as a host).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { copyRepository, newUserEnvironment } from "../helpers/repository_copy.ts";

async function demoIn(cwd: string, env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "demo", "--days", "0.25", "--seed", "2", "--json"],
    cwd,
    clearEnv: true,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

async function isFile(path: string): Promise<boolean> {
  return await Deno.stat(path).then((s) => s.isFile, () => false);
}

Deno.test({
  name: "fresh clone: `deno task demo` with no variable set, then with a relative DYNAMO_HOME",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const clone = await copyRepository();
    try {
      const plain = await demoIn(clone, newUserEnvironment());
      assertEquals(plain.code, 0, plain.stderr);
      assertEquals(JSON.parse(plain.stdout).last_copies_lost, 0);
      assert(
        await isFile(`${clone}/.dynamo/demo/config/demo.seq`),
        "the default home is ./.dynamo of the clone",
      );

      const relative = await demoIn(clone, newUserEnvironment({ DYNAMO_HOME: "state/home" }));
      assertEquals(relative.code, 0, relative.stderr);
      assertEquals(JSON.parse(relative.stdout).sites.length, 12);
      assert(
        await isFile(`${clone}/state/home/demo/config/demo.seq`),
        "a relative home is under the working dir",
      );
    } finally {
      await Deno.remove(clone, { recursive: true });
    }
  },
});
