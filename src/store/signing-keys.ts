import type { Knex } from "knex";
import type { JWK } from "jose";
import type { SigningKeyStore } from "../domain/tokens";
import { json } from "./records";

type Row = { kid: string; alg: string; public_jwk: JWK | string; private_sealed: string; created_at: Date; retired_at: Date | null };

/** Tokens signed by a retired key stay verifiable this long after it is retired. */
const RETIRED_GRACE_MS = 24 * 3600 * 1000;

export function signingKeyStore(db: Knex): SigningKeyStore {
  return {
    async published(now) {
      const rows = (await db<Row>("signing_keys")
        .whereNull("retired_at")
        .orWhere("retired_at", ">", new Date(now.getTime() - RETIRED_GRACE_MS))
        .orderBy("created_at", "desc")) as Row[];
      return rows.map((r) => ({
        kid: r.kid,
        publicJwk: typeof r.public_jwk === "string" ? JSON.parse(r.public_jwk) : r.public_jwk,
        privateSealed: r.private_sealed,
        retired: r.retired_at !== null,
      }));
    },

    async insertIfNoneActive(key) {
      // The advisory lock serialises nodes starting together on one database.
      await db.transaction(async (trx) => {
        await trx.raw("SELECT pg_advisory_xact_lock(hashtext('a2a.signing_keys'))");
        const active = await trx("signing_keys").whereNull("retired_at").first("kid");
        if (active) return;
        await trx("signing_keys").insert({
          kid: key.kid, alg: "EdDSA", public_jwk: json(key.publicJwk), private_sealed: key.privateSealed, created_at: new Date(),
        });
      });
    },
  };
}
