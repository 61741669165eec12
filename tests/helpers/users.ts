import type { Database } from "../../adapters/db/database.ts";
import { SqlUserStore } from "../../adapters/db/user_store.ts";
import { parseAuthorization } from "../../adapters/db/user_store_port.ts";

/** Adds "ops", admin of the inventory, the applications and the registry; returns its token. */
export async function addOperator(db: Database): Promise<string> {
  const { token } = await new SqlUserStore(db).addUser({
    name: "ops",
    authorizations: ["admin:inventory", "admin:application", "admin:registry"].map(parseAuthorization),
  }, 0);
  return token;
}

/** Adds a user without roles (who may still request copies and deletions); returns its token. */
export async function addPlainUser(db: Database, name: string): Promise<string> {
  const { token } = await new SqlUserStore(db).addUser({ name, authorizations: [] }, 0);
  return token;
}
