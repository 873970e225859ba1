import type { Knex } from "knex";
import { UnauthenticatedError } from "../domain/errors";
import { isWellFormedSecret, type KeyRing } from "../domain/secrets";
import { authorizations } from "../store/authorizations";
import { principalOf, type Principal } from "./principal";

/**
 * Client authentication with client_id and client_secret (RFC 6749 §2.3.1), for the token
 * request and for Basic credentials on A2A's own services. Every failure, whichever part was
 * wrong, is the same UnauthenticatedError; the reason goes to the audit trail only. The
 * caller then applies the policy (`enforce`), once it has noted who is calling.
 */
export async function verifyClientSecret(deps: { db: Knex; ring: KeyRing }, clientId: string, clientSecret: string): Promise<Principal> {
  const record = await authorizations.byClientId(deps.db, clientId);
  // Hash even when the client is unknown, so timing does not tell unknown ids from bad secrets.
  const matches = deps.ring.secretMatches(clientSecret, record?.keys.secretHash ?? "-");
  if (!record) throw UnauthenticatedError.client("unknown client_id");
  if (!isWellFormedSecret(clientSecret) || !matches) throw UnauthenticatedError.client("wrong client_secret");
  if (record.application.authMethod !== "oauth2") throw UnauthenticatedError.client(`application uses ${record.application.authMethod}`);
  return principalOf(record, "basic");
}
