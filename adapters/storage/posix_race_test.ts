/**
 * The swap race of issue 21: someone with write access inside a site root
 * exchanges a directory with a symlink to the outside (renameat2
 * RENAME_EXCHANGE, in a tight loop on another thread) while deletions,
 * copies, writes and checksums run on paths through that directory. Whatever
 * the interleaving, after every round: nothing outside the root was deleted,
 * written or created, no read came from outside, and every copy or write that
 * succeeded left its file, verified, inside the root.
 */
import { assert, assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { startExchanging } from "../../tests/helpers/rename_exchange.ts";
import { adler32Hex } from "./adler32.ts";
import { PosixStorage } from "./posix_storage.ts";
import { StorageError } from "./storage_port.ts";

const ROUNDS = 30;
const PER_ROUND = 6;
const encoder = new TextEncoder();
const OUTSIDE = encoder.encode("outside, must stay as it is");

type Outcome = { op: string; name: string; k: number; ok: boolean; value?: unknown };

Deno.test("posix storage: a directory exchanged with a symlink to the outside during operations", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dynamo-race-" });
  try {
    const root = `${dir}/root`;
    const outside = `${dir}/outside/d`;
    await Deno.mkdir(`${root}/store/d`, { recursive: true });
    await Deno.mkdir(outside, { recursive: true });
    await Deno.mkdir(`${dir}/src`);
    await Deno.symlink(outside, `${root}/store/l`);
    const sources = Array.from({ length: PER_ROUND }, (_, k) => {
      const bytes = crypto.getRandomValues(new Uint8Array(16_384 + k));
      return { bytes, expect: { size: bytes.length, adler32: adler32Hex(bytes) } };
    });
    for (const [k, s] of sources.entries()) await Deno.writeFile(`${dir}/src/s${k}`, s.bytes);
    // Every name an operation uses exists outside too, so an operation that followed the link
    // would delete, replace or read an outside file rather than make a new one.
    const inside = encoder.encode("inside");
    for (let k = 0; k < PER_ROUND; k++) await Deno.writeFile(`${root}/store/d/rd${k}`, inside);
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < PER_ROUND; k++) {
        await Deno.writeFile(`${root}/store/d/del_${r}_${k}`, inside);
        for (const op of ["del", "cp", "wr", "rd"]) {
          await Deno.writeFile(`${outside}/${op === "rd" ? `rd${k}` : `${op}_${r}_${k}`}`, OUTSIDE);
        }
      }
    }
    const outsideNames = await namesIn(outside);
    const site = await PosixStorage.open(root);
    const source = await PosixStorage.open(`${dir}/src`);
    const outsideSum = adler32Hex(OUTSIDE);

    const racer = await startExchanging(`${root}/store/d`, `${root}/store/l`);
    try {
      for (let r = 0; r < ROUNDS; r++) {
        const ops: Promise<Outcome>[] = [];
        const run = (op: string, name: string, k: number, act: () => Promise<unknown>) =>
          ops.push(
            act().then((value) => ({ op, name, k, ok: true, value }), () => ({ op, name, k, ok: false })),
          );
        for (let k = 0; k < PER_ROUND; k++) {
          const s = sources[k]!;
          run("delete", `del_${r}_${k}`, k, () => site.delete(`/store/d/del_${r}_${k}`));
          run(
            "copy",
            `cp_${r}_${k}`,
            k,
            () => site.copyFrom(source, `/s${k}`, `/store/d/cp_${r}_${k}`, s.expect),
          );
          run(
            "write",
            `wr_${r}_${k}`,
            k,
            () => site.write(`/store/d/wr_${r}_${k}`, ReadableStream.from([s.bytes.slice()]), s.expect),
          );
          run("checksum", `rd${k}`, k, () => site.checksum(`/store/d/rd${k}`));
        }
        run("rmdir", "d", 0, () => site.rmdir("/store/d"));
        const outcomes = await Promise.all(ops);

        await racer.pause(); // a still file system to look at; the racer resumes for the next round
        try {
          assertEquals(await namesIn(outside), outsideNames, `round ${r}: names outside the root changed`);
          for (const name of outsideNames) {
            assertEquals(
              await Deno.readFile(`${outside}/${name}`),
              OUTSIDE,
              `round ${r}: ${name} outside changed`,
            );
          }
          const real = (await Deno.lstat(`${root}/store/d`)).isDirectory
            ? `${root}/store/d`
            : `${root}/store/l`;
          assert((await Deno.lstat(real)).isDirectory, "the real directory is still inside the root");
          for (const o of outcomes.filter((o) => o.ok)) {
            if (o.op === "copy" || o.op === "write") {
              // Done means verified in place: the file is inside the root with its bytes.
              assertEquals(
                await Deno.readFile(`${real}/${o.name}`),
                sources[o.k]!.bytes,
                `${o.op} ${o.name}`,
              );
            } else if (o.op === "delete") {
              assertEquals(o.value, true, `round ${r}: ${o.name} was there to delete`);
              assertEquals(
                await Deno.lstat(`${real}/${o.name}`).catch(() => null),
                null,
                `${o.name} deleted`,
              );
            } else if (o.op === "checksum") {
              assert(o.value !== outsideSum, `round ${r}: ${o.name} was read from outside the root`);
            }
          }
          assert(
            !outcomes.some((o) => o.op === "rmdir" && o.ok),
            `round ${r}: rmdir of a non-empty directory succeeded`,
          );
        } finally {
          racer.resume();
        }
      }
    } finally {
      await racer.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function namesIn(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("posix storage: a directory moved out of the root during a write: the file is removed, the write fails", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dynamo-race-" });
  try {
    await Deno.mkdir(`${dir}/root/store/d`, { recursive: true });
    await Deno.mkdir(`${dir}/outside`);
    const site = await PosixStorage.open(`${dir}/root`);
    const bytes = encoder.encode("moved while written");
    // The last chunk is handed over only once the directory being written in has left the root.
    const data = new ReadableStream<Uint8Array>({
      async pull(c) {
        await Deno.rename(`${dir}/root/store/d`, `${dir}/outside/d`);
        c.enqueue(bytes);
        c.close();
      },
    }, { highWaterMark: 0 }); // pulled only when the write reads, not as soon as it is made
    const e = await assertRejects(
      () => site.write("/store/d/f", data, { size: bytes.length, adler32: adler32Hex(bytes) }),
      StorageError,
    );
    assertEquals([e.code, e.message.includes("left its place")], ["EIO", true], e.message);
    assertEquals(await namesIn(`${dir}/outside/d`), [], "nothing is left outside, not even the part file");
    assertEquals(await site.stat("/store/d/f"), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
