import type { Knex } from "knex";
import { InvalidArgumentError } from "../domain/errors";
import { RESOURCE_NAME } from "../domain/validation";
import { pageSize } from "./paging";
import type { ResourceRecord } from "./records";

type Row = { name: string; description: string; builtin: boolean; created_at: Date };

const toResource = (r: Row): ResourceRecord => ({ name: r.name, description: r.description, builtin: r.builtin, createdAt: new Date(r.created_at) });

export const resources = {
  async insert(db: Knex, r: ResourceRecord, createdBy: string): Promise<void> {
    await db("resources").insert({ name: r.name, description: r.description, builtin: false, created_at: r.createdAt, created_by: createdBy });
  },

  async get(db: Knex, name: string): Promise<ResourceRecord | undefined> {
    const row = await db<Row>("resources").where({ name }).first();
    return row ? toResource(row as Row) : undefined;
  },

  /** The names among `names` that do not exist. */
  async missing(db: Knex, names: readonly string[]): Promise<string[]> {
    if (names.length === 0) return [];
    const found = new Set((await db("resources").whereIn("name", names).select("name")).map((r: Row) => r.name));
    return names.filter((n) => !found.has(n));
  },

  async grantCount(db: Knex, name: string): Promise<number> {
    const row = await db("grants").where({ resource: name }).count<{ n: string | number }>({ n: "*" }).first();
    return Number(row?.n ?? 0);
  },

  async delete(db: Knex, name: string): Promise<boolean> {
    return (await db("resources").where({ name }).delete("name")).length > 0;
  },

  /** Keyset paging by name. */
  async list(db: Knex, requestedSize: number, pageToken: string) {
    const size = pageSize(requestedSize, 100);
    let after: string | undefined;
    if (pageToken) {
      const decoded = Buffer.from(pageToken, "base64url").toString("utf8");
      if (!decoded.startsWith("r:") || !RESOURCE_NAME.test(decoded.slice(2))) {
        throw new InvalidArgumentError("page_token", "is not a next_page_token returned by this list");
      }
      after = decoded.slice(2);
    }
    const q = db<Row>("resources").select("*").orderBy("name").limit(size + 1);
    if (after !== undefined) q.where("name", ">", after);
    const rows = (await q) as Row[];
    const more = rows.length > size;
    const page = rows.slice(0, size).map(toResource);
    return { items: page, nextPageToken: more ? Buffer.from(`r:${page[page.length - 1].name}`).toString("base64url") : "" };
  },
};
