import { parseAuthorization } from "../db/user_store_port.ts";
import { parse, table } from "./args.ts";
import { type CliContext, CliError } from "./cli_context.ts";
import { help } from "./inventory_commands.ts";

export const USER_HELP = `Usage: dynamo user add NAME --role ROLE:TARGET [--role …] [--email E] [--dn DN]
       dynamo user list [--json]
       dynamo user revoke NAME

Manages users of the registry in the configured database (run on the server's
machine; with the embedded database, stop the server first).
  add     creates NAME (or adds roles) and prints a new bearer token, once
  list    users, roles and number of active tokens
  revoke  disables NAME and all their tokens
ROLE is admin or operator; TARGET is inventory, registry, application or history.`;

export async function userCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") return help(ctx, USER_HELP);
  const { values, positionals } = parse(rest, {
    role: { type: "string", multiple: true },
    email: { type: "string" },
    dn: { type: "string" },
    json: { type: "boolean" },
  });
  if (values.help) return help(ctx, USER_HELP);
  const open = async () => await ctx.openUsers();
  switch (sub) {
    case "add": {
      if (positionals.length !== 1) throw new CliError("user add needs exactly one NAME", 2);
      if (!values.role?.length) {
        throw new CliError("user add needs at least one --role ROLE:TARGET, e.g. --role admin:inventory", 2);
      }
      let authorizations;
      try {
        authorizations = values.role.map(parseAuthorization);
      } catch (e) {
        throw new CliError((e as Error).message, 2);
      }
      const { users, close } = await open();
      try {
        const { token } = await users.addUser({
          name: positionals[0]!,
          authorizations,
          ...(values.email ? { email: values.email } : {}),
          ...(values.dn ? { dn: values.dn } : {}),
        }, ctx.now()).catch((e) => {
          throw new CliError((e as Error).message);
        });
        ctx.out(`User ${positionals[0]} has roles ${values.role.join(", ")}. Token (shown once):`);
        ctx.out(token);
      } finally {
        await close();
      }
      return 0;
    }
    case "list": {
      const { users, close } = await open();
      try {
        const list = await users.listUsers();
        if (values.json) ctx.out(JSON.stringify(list, null, 2));
        else {
          for (
            const line of table(
              ["NAME", "ROLES", "TOKENS", "STATUS"],
              list.map((
                u,
              ) => [
                u.name,
                u.authorizations.map((a) => `${a.role}:${a.target}`).join(",") || "-",
                u.activeTokens,
                u.revoked ? "revoked" : "active",
              ]),
            )
          ) ctx.out(line);
        }
      } finally {
        await close();
      }
      return 0;
    }
    case "revoke": {
      if (positionals.length !== 1) throw new CliError("user revoke needs exactly one NAME", 2);
      const { users, close } = await open();
      try {
        if (!(await users.revokeUser(positionals[0]!, ctx.now()))) {
          throw new CliError(`No active user "${positionals[0]}"`);
        }
        ctx.out(`User ${positionals[0]} and their tokens are revoked.`);
      } finally {
        await close();
      }
      return 0;
    }
    default:
      throw new CliError(`Unknown user command "${sub}" (add, list, revoke)`, 2);
  }
}
