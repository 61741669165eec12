/** @jsxImportSource hono/jsx */
import { GenericTable } from "./generic_table.tsx";
import { optional, type PageEnv, type PageResult } from "./page.ts";

type Row = Record<string, string | number | boolean | null>;

/** `/web/scheduler`: the sequences, the latest application runs, and the application locks. */
export async function schedulerPage(env: PageEnv): Promise<PageResult> {
  const [sequences, runs, locks] = await Promise.all([
    optional(env.api.get<Row[]>("/data/scheduler/sequences")),
    optional(env.api.get<Row[]>("/data/scheduler/applications", { limit: 100 })),
    optional(env.api.get<Row[]>("/data/applock/current")),
  ]);
  return {
    title: "Scheduler",
    body: (
      <>
        <h2>Sequences</h2>
        {sequences === null
          ? <p class="muted">No scheduler on this server.</p>
          : <GenericTable id="sequences" rows={sequences} />}
        <h2>Application runs (latest 100)</h2>
        {runs === null ? <p class="muted">None.</p> : <GenericTable id="applications" rows={runs} />}
        <h2>Application locks</h2>
        {locks === null ? <p class="muted">None.</p> : <GenericTable id="applocks" rows={locks} />}
      </>
    ),
  };
}
