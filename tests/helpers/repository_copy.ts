/**
 * A copy of the repository as `git clone` would give it: the files git tracks
 * plus the untracked ones it does not ignore (so a test sees the change being
 * made), without `.dynamo/` or anything else a developer's runs left behind.
 */
import { dirname, join } from "node:path";

export const REPOSITORY = new URL("../..", import.meta.url).pathname;

export async function copyRepository(): Promise<string> {
  const listed = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: REPOSITORY,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (listed.code !== 0) throw new Error(`git ls-files failed: ${new TextDecoder().decode(listed.stderr)}`);
  const files = new TextDecoder().decode(listed.stdout).split("\0").filter((f) => f !== "");
  const dir = await Deno.makeTempDir({ prefix: "dynamo-clone-" });
  for (const file of files) {
    const from = join(REPOSITORY, file);
    // A tracked file deleted in the working tree is not part of the clone being tried.
    if (!(await Deno.stat(from).then((s) => s.isFile, () => false))) continue;
    await Deno.mkdir(join(dir, dirname(file)), { recursive: true });
    await Deno.copyFile(from, join(dir, file));
  }
  return dir;
}

/**
 * The environment of a new user's shell: PATH and HOME (Deno's cache lives
 * there) and no `DYNAMO_*` variable, whatever the test runner's shell has.
 */
export function newUserEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}
