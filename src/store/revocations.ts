import type { Knex } from "knex";

/** Revoked token ids, kept until the token would have expired anyway. */
export const revocations = {
  async revoke(db: Knex, jti: string, expiresAt: Date, by: string, now: Date): Promise<void> {
    await db("revoked_tokens").insert({ jti, expires_at: expiresAt, revoked_at: now, revoked_by: by }).onConflict("jti").ignore();
  },

  async purgeExpired(db: Knex, now: Date): Promise<number> {
    return (await db("revoked_tokens").where("expires_at", "<", now).delete("jti")).length;
  },
};
