/** @jsxImportSource hono/jsx */
// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, so no keys
import { time } from "./format.ts";

type Cell = string | number | boolean | null | undefined | readonly unknown[] | Record<string, unknown>;

/** Times are Unix seconds in fields with these names. */
const TIME_FIELDS =
  /^(since|created|expires|unlocked|started|ended|finished|next_wakeup|next|updated|queued|time|timestamp)$/;

function show(key: string, v: Cell): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number" && TIME_FIELDS.test(key) && v > 1e8) return time(v);
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Rows of a JSON endpoint as a table, with the columns given (or every key of the first row). */
export function GenericTable(props: { id: string; rows: Record<string, Cell>[]; columns?: string[] }) {
  const columns = props.columns ?? Object.keys(props.rows[0] ?? {});
  if (props.rows.length === 0) return <p class="muted" id={props.id}>None.</p>;
  return (
    <table id={props.id}>
      <thead>
        <tr>{columns.map((c) => <th>{c}</th>)}</tr>
      </thead>
      <tbody>
        {props.rows.map((r) => <tr>{columns.map((c) => <td>{show(c, r[c])}</td>)}</tr>)}
      </tbody>
    </table>
  );
}
