import type { Knex } from "knex";

/**
 * OAuth 1.0 and AWS applications: an OAuth 1.0 authorization also has token credentials (the
 * token in clear, for lookup; its secret sealed, since HMAC verification needs it); an AWS
 * authorization has no secret at all. Nonces seen recently, shared by every A2A node.
 */
export const oauth1Aws = {
  name: "20261203-0002-oauth1-aws",

  async up(knex: Knex): Promise<void> {
    await knex.schema.alterTable("authorizations", (t) => {
      t.text("secret_hash").nullable().alter();
      t.text("secret_sealed").nullable().alter();
      t.text("oauth1_token").nullable().unique();
      t.text("oauth1_token_secret_sealed").nullable();
    });
    await knex.schema.createTable("oauth1_nonces", (t) => {
      t.text("consumer_key").notNullable();
      t.text("nonce").notNullable();
      // When the nonce may be forgotten: its timestamp plus the accepted window.
      t.timestamp("expires_at", { useTz: true }).notNullable().index();
      t.primary(["consumer_key", "nonce"]);
    });
  },

  async down(knex: Knex): Promise<void> {
    await knex.schema.dropTableIfExists("oauth1_nonces");
    // AWS authorizations have no secret: they cannot survive going back.
    await knex("authorizations").whereNull("secret_hash").delete("id");
    await knex.schema.alterTable("authorizations", (t) => {
      t.dropColumn("oauth1_token");
      t.dropColumn("oauth1_token_secret_sealed");
      t.text("secret_hash").notNullable().alter();
      t.text("secret_sealed").notNullable().alter();
    });
  },
};
