import type { Knex } from "knex";

/**
 * OAuth 1.0 nonces seen per consumer (RFC 5849 §3.3), in the shared store so that every A2A
 * node refuses a request another node already accepted. Kept until the request's timestamp
 * leaves the accepted window; after that the timestamp check refuses it anyway.
 */
export const nonces = {
  /** Records a nonce; false when this consumer already used it (a replay). Atomic across nodes. */
  async remember(db: Knex, consumerKey: string, nonce: string, expiresAt: Date): Promise<boolean> {
    const rows = await db("oauth1_nonces")
      .insert({ consumer_key: consumerKey, nonce, expires_at: expiresAt })
      .onConflict(["consumer_key", "nonce"])
      .ignore()
      .returning("nonce");
    return rows.length > 0;
  },

  async purgeExpired(db: Knex, now: Date): Promise<number> {
    return (await db("oauth1_nonces").where("expires_at", "<", now).delete("nonce")).length;
  },
};
