import type { Knex } from "knex";
import { fetchPage } from "./paging";
import { json, type ApplicationRecord } from "./records";

type Row = {
  id: string; name: string; description: string; auth_method: ApplicationRecord["authMethod"]; enabled: boolean;
  tags: string[]; aws_arns: string[]; created_at: Date; updated_at: Date; created_by: string; updated_by: string;
};

export function toApplication(row: Row): ApplicationRecord {
  return {
    id: row.id, name: row.name, description: row.description, authMethod: row.auth_method, enabled: row.enabled,
    tags: row.tags, awsArns: row.aws_arns, createdAt: new Date(row.created_at), updatedAt: new Date(row.updated_at),
    createdBy: row.created_by, updatedBy: row.updated_by,
  };
}

function toRow(app: ApplicationRecord) {
  return {
    id: app.id, name: app.name, description: app.description, auth_method: app.authMethod, enabled: app.enabled,
    tags: json(app.tags), aws_arns: json(app.awsArns), created_at: app.createdAt, updated_at: app.updatedAt,
    created_by: app.createdBy, updated_by: app.updatedBy,
  };
}

/** Applications. Every function takes the Knex handle to use: the pool or an open transaction. */
export const applications = {
  async insert(db: Knex, app: ApplicationRecord): Promise<void> {
    await db("applications").insert(toRow(app));
  },

  async get(db: Knex, id: string, forUpdate = false): Promise<ApplicationRecord | undefined> {
    const q = db<Row>("applications").where({ id }).first();
    if (forUpdate) q.forUpdate();
    const row = await q;
    return row ? toApplication(row as Row) : undefined;
  },

  async nameTaken(db: Knex, name: string, exceptId?: string): Promise<boolean> {
    const q = db("applications").whereRaw("lower(name) = lower(?)", [name]);
    if (exceptId) q.whereNot({ id: exceptId });
    return Boolean(await q.first("id"));
  },

  async update(db: Knex, app: ApplicationRecord): Promise<void> {
    const { id, created_at, created_by, ...rest } = toRow(app);
    await db("applications").where({ id }).update(rest);
  },

  async delete(db: Knex, id: string): Promise<boolean> {
    return (await db("applications").where({ id }).delete("id")).length > 0;
  },

  async count(db: Knex): Promise<number> {
    const row = await db("applications").count<{ n: string | number }>({ n: "*" }).first();
    return Number(row?.n ?? 0);
  },

  async list(db: Knex, page: Parameters<typeof fetchPage>[2]) {
    const { rows, nextPageToken } = await fetchPage<Row>(db("applications").select("*"), "applications", page);
    return { items: rows.map(toApplication), nextPageToken };
  },
};
