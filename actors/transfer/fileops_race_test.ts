/**
 * Issue 21's storage race through the whole file-operations path: while a
 * pass copies one dataset to a site and deletes another from it, another
 * thread keeps exchanging the directory above both (`/store/race`) with a
 * symlink to a directory outside the site root that holds files of the same
 * names. After the pass: nothing outside the root changed, every copy recorded
 * done has its verified file inside the root, and every deletion recorded
 * done removed the file inside the root. Once the swapping stops, released
 * tasks complete.
 */
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { fileopsFederation } from "../../tests/helpers/fileops.ts";
import { startExchanging } from "../../tests/helpers/rename_exchange.ts";

const FILES = 20;
const OUTSIDE = new TextEncoder().encode("outside the site root");

dbTest(
  "a directory exchanged with a symlink to the outside during a file-operations pass",
  async ({ db }) => {
    const f = await fileopsFederation(db, [{ name: "T2_A" }, { name: "T2_B" }]);
    try {
      const copied = await f.dataset("/Race/Copy/AOD", FILES, ["T2_A"]);
      const deleted = await f.dataset("/Race/Delete/AOD", FILES, ["T2_B"]);
      const root = await Deno.realPath(f.rootOf("T2_B"));
      const outside = `${f.dir}/outside/race`;
      for (const file of [...copied, ...deleted]) {
        const at = `${outside}${file.lfn.slice("/store/race".length)}`;
        await Deno.mkdir(at.slice(0, at.lastIndexOf("/")), { recursive: true });
        await Deno.writeFile(at, OUTSIDE);
      }
      await Deno.mkdir(`${root}/store/race/copy/aod`, { recursive: true });
      await Deno.symlink(outside, `${root}/store/race_link`);
      const outsideBefore = await tree(outside);
      await f.scheduleCopy("/Race/Copy/AOD", "T2_B");
      await f.scheduleDeletion("/Race/Delete/AOD", "T2_B");

      const racer = await startExchanging(`${root}/store/race`, `${root}/store/race_link`);
      let summary: Record<string, number>;
      try {
        summary = await f.pass();
        await racer.pause();
        assertEquals(await tree(outside), outsideBefore, "nothing outside the root changed");
        const real = (await Deno.lstat(`${root}/store/race`)).isDirectory
          ? `${root}/store/race`
          : `${root}/store/race_link`;
        const transfers = (await f.call("GET", "/data/transfers/history?limit=1000")).body.data;
        const deletions = (await f.call("GET", "/data/deletions/history?limit=1000")).body.data;
        assertEquals([transfers.length, deletions.length], [FILES, FILES], "every task ran once");
        for (const t of transfers.filter((t: { exit_code: number }) => t.exit_code === 0)) {
          const file = copied.find((c) => c.lfn === t.lfn)!;
          assertEquals(await Deno.readFile(`${real}${t.lfn.slice("/store/race".length)}`), file.bytes, t.lfn);
        }
        for (const d of deletions.filter((d: { exit_code: number }) => d.exit_code === 0)) {
          assertEquals(
            await Deno.lstat(`${real}${d.lfn.slice("/store/race".length)}`).catch(() => null),
            null,
          );
        }
        assert(summary.transfers_done! + summary.transfers_failed! === FILES, JSON.stringify(summary));
      } finally {
        await racer.stop();
      }

      // The swapping over, the real directory back at its name: what failed is released and completes.
      if ((await Deno.lstat(`${root}/store/race`)).isSymlink) {
        await Deno.remove(`${root}/store/race`);
        await Deno.rename(`${root}/store/race_link`, `${root}/store/race`);
      } else {
        await Deno.remove(`${root}/store/race_link`);
      }
      for (let i = 0; i < 4; i++) {
        await f.call("POST", "/data/transfers/release?all=y", { token: f.token });
        f.clock.advance(31_000); // past the first retry delay (a release starts the count again)
        await f.pass();
      }
      for (const file of copied) {
        assertEquals(
          await Deno.readFile(`${root}${file.lfn}`),
          file.bytes,
          file.lfn,
        );
      }
      assertEquals(f.blockReplica("/Race/Copy/AOD", "T2_B")?.fileIds, null, "the copy is complete");
      assertEquals(f.blockReplica("/Race/Delete/AOD", "T2_B"), undefined, "the deletion is complete");
      assertEquals(await tree(outside), outsideBefore);
    } finally {
      await f.close();
    }
  },
);

/** Every file below a directory with its bytes, sorted. */
async function tree(dir: string, prefix = ""): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for (const e of await Array.fromAsync(Deno.readDir(`${dir}${prefix}`))) {
    const path = `${prefix}/${e.name}`;
    if (e.isDirectory) out.push(...await tree(dir, path));
    else out.push([path, new TextDecoder().decode(await Deno.readFile(`${dir}${path}`))]);
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}
