/**
 * Hostile names in a POSIX site, on disk and in requests: listing never
 * crashes and never yields a path that names another file, and a path that
 * cannot be a site path is refused without touching anything.
 */
import { assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { PosixStorage } from "./posix_storage.ts";
import { StorageError } from "./storage_port.ts";

Deno.test("posix storage: hostile names on disk and in paths", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dynamo-names-" });
  try {
    await Deno.mkdir(`${dir}/store`);
    await Deno.writeTextFile(`${dir}/store/a\nb`, "newline");
    await Deno.writeTextFile(`${dir}/store/x\ufffd`, "replacement character");
    await Deno.writeTextFile(`${dir}/store/...`, "dots");
    // Not valid UTF-8: Deno cannot name it, the shell can.
    const sh = await new Deno.Command("sh", {
      args: ["-c", `printf 'bytes' > "$(printf '${dir}/store/bad\\377')"`],
    })
      .output();
    assertEquals(sh.success, true);
    assertEquals((await Array.fromAsync(Deno.readDir(`${dir}/store`))).length, 4);
    const site = await PosixStorage.open(dir);

    // Listed as they are, except the name readDir can only give altered (not found under that name).
    assertEquals((await Array.fromAsync(site.list("/store"))).map((e) => e.path), [
      "/store/...",
      "/store/a\nb",
      "/store/x\ufffd",
    ]);
    assertEquals((await site.stat("/store/..."))?.size, 4);

    const refused = async (path: string, code: string) => {
      for (
        const act of [
          () => site.stat(path),
          () => site.delete(path),
          () => site.read(path),
          () => site.checksum(path),
          () => site.write(path, ReadableStream.from([new Uint8Array(1)]), { size: 1 }),
          () => site.mkdir(path),
          () => site.rmdir(path),
        ]
      ) {
        const e = await assertRejects(act, StorageError);
        assertEquals(e.code, code, `${JSON.stringify(path)}: ${e.message}`);
      }
    };
    await refused("/store/a\nb", "EINVAL"); // control characters are never a site path
    await refused("/store/x\ud800", "EINVAL"); // a lone surrogate would be written as U+FFFD: x\ufffd
    await refused("/store/../store/...", "EINVAL");
    await refused("/store/a\u0000b", "EINVAL");
    await refused(`/store/${"n".repeat(256)}`, "EINVAL"); // longer than a file name may be

    const after = (await Array.fromAsync(Deno.readDir(`${dir}/store`))).map((e) => e.name).sort();
    assertEquals(after, ["...", "a\nb", "bad\ufffd", "x\ufffd"]);
    assertEquals(await Deno.readTextFile(`${dir}/store/x\ufffd`), "replacement character");
    assertEquals(await Deno.readTextFile(`${dir}/store/a\nb`), "newline");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
