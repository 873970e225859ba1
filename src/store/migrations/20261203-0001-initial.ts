import type { Knex } from "knex";

/** The first audit table (migration 0003 turns it into the chained, partitioned one, and back). */
export function auditEventsV1(t: Knex.CreateTableBuilder): void {
  t.bigIncrements("id").primary();
  t.timestamp("time", { useTz: true }).notNullable();
  t.uuid("request_id").notNullable();
  t.text("node").notNullable();
  t.specificType("peer_ip", "inet").nullable();
  t.text("client_id").nullable();
  t.uuid("application_id").nullable();
  t.text("application_name").nullable();
  t.uuid("authorization_id").nullable();
  t.text("method").notNullable();
  t.text("resource").nullable();
  t.integer("status_code").notNullable();
  t.text("error").nullable();
  t.double("duration_ms").notNullable();
  t.text("user_agent").nullable();
  t.text("referer").nullable();
  t.text("target").nullable();
  t.index(["time"]);
  t.index(["client_id", "id"]);
  t.index(["application_id", "id"]);
  t.index(["authorization_id", "id"]);
}

/** Applications, authorizations and their grants, resources, signing keys, revocations, audit. */
export const initial = {
  name: "20261203-0001-initial",

  async up(knex: Knex): Promise<void> {
    await knex.schema.createTable("resources", (t) => {
      t.text("name").primary();
      t.text("description").notNullable().defaultTo("");
      t.boolean("builtin").notNullable().defaultTo(false);
      t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.text("created_by").notNullable().defaultTo("");
    });
    await knex("resources").insert({ name: "a2a", description: "A2A itself: its Admin, Token and Audit services", builtin: true, created_by: "system" });

    await knex.schema.createTable("applications", (t) => {
      t.uuid("id").primary();
      t.text("name").notNullable();
      t.text("description").notNullable().defaultTo("");
      t.text("auth_method").notNullable();
      t.boolean("enabled").notNullable();
      t.jsonb("tags").notNullable();
      t.jsonb("aws_arns").notNullable();
      t.timestamp("created_at", { useTz: true }).notNullable();
      t.timestamp("updated_at", { useTz: true }).notNullable();
      t.text("created_by").notNullable();
      t.text("updated_by").notNullable();
      t.index(["created_at", "id"]);
    });
    await knex.raw("CREATE UNIQUE INDEX applications_name_ci ON applications (lower(name))");

    await knex.schema.createTable("authorizations", (t) => {
      t.uuid("id").primary();
      t.uuid("application_id").notNullable().references("applications.id").onDelete("CASCADE");
      t.text("client_id").notNullable().unique();
      // HMAC of the secret (to verify it) and the secret sealed with AES-256-GCM (to reveal it).
      t.text("secret_hash").notNullable();
      t.text("secret_sealed").notNullable();
      t.text("description").notNullable().defaultTo("");
      t.text("system").notNullable().defaultTo("");
      t.text("environment").notNullable().defaultTo("");
      t.boolean("enabled").notNullable();
      t.timestamp("expires_at", { useTz: true }).nullable();
      t.jsonb("allowed_ips").notNullable();
      t.jsonb("allowed_referers").notNullable();
      t.timestamp("last_used_at", { useTz: true }).nullable();
      t.text("last_used_ip").nullable();
      t.timestamp("created_at", { useTz: true }).notNullable();
      t.timestamp("updated_at", { useTz: true }).notNullable();
      t.text("created_by").notNullable();
      t.text("updated_by").notNullable();
      t.index(["application_id", "created_at", "id"]);
      t.index(["created_at", "id"]);
    });

    await knex.schema.createTable("grants", (t) => {
      t.uuid("authorization_id").notNullable().references("authorizations.id").onDelete("CASCADE");
      // RESTRICT: a resource that is granted cannot be deleted.
      t.text("resource").notNullable().references("resources.name").onDelete("RESTRICT");
      t.text("level").notNullable();
      t.primary(["authorization_id", "resource"]);
      t.index(["resource"]);
    });

    await knex.schema.createTable("signing_keys", (t) => {
      t.text("kid").primary();
      t.text("alg").notNullable();
      t.jsonb("public_jwk").notNullable();
      t.text("private_sealed").notNullable();
      t.timestamp("created_at", { useTz: true }).notNullable();
      t.timestamp("retired_at", { useTz: true }).nullable();
    });

    await knex.schema.createTable("revoked_tokens", (t) => {
      t.text("jti").primary();
      t.timestamp("expires_at", { useTz: true }).notNullable().index();
      t.timestamp("revoked_at", { useTz: true }).notNullable();
      t.text("revoked_by").notNullable();
    });

    await knex.schema.createTable("audit_events", auditEventsV1);
  },

  async down(knex: Knex): Promise<void> {
    for (const table of ["audit_events", "revoked_tokens", "signing_keys", "grants", "authorizations", "applications", "resources"]) {
      await knex.schema.dropTableIfExists(table);
    }
  },
};
