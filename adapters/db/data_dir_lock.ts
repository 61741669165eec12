/**
 * PGlite is a single-process database: two processes opening one data
 * directory would corrupt it. A lock file holding the owner's PID guards it;
 * a lock left by a dead process is taken over.
 */
export class DataDirLockedError extends Error {
  constructor(readonly dataDir: string, readonly pid: number) {
    super(
      `The database at ${dataDir} is in use by process ${pid} (a running Dynamo server?). ` +
        "Stop it first, use the REST API, or run PostgreSQL (DYNAMO_DATABASE_URL) for concurrent access",
    );
    this.name = "DataDirLockedError";
  }
}

export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await Deno.mkdir(dataDir, { recursive: true });
  const path = `${dataDir}/dynamo.pid`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await Deno.writeTextFile(path, String(Deno.pid), { createNew: true });
      return async () => {
        await Deno.remove(path).catch(() => {});
      };
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      const pid = Number((await Deno.readTextFile(path).catch(() => "")).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== Deno.pid && (await processAlive(pid))) {
        throw new DataDirLockedError(dataDir, pid);
      }
      await Deno.remove(path).catch(() => {}); // stale: its owner is gone
    }
  }
  throw new Error(`Could not lock ${dataDir}`);
}

async function processAlive(pid: number): Promise<boolean> {
  try {
    await Deno.stat(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}
