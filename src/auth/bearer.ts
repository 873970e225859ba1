import type { Knex } from "knex";
import { UnauthenticatedError } from "../domain/errors";
import type { TokenSigner, VerifiedToken } from "../domain/tokens";
import { authorizations } from "../store/authorizations";
import { principalOf, type Principal } from "./principal";

/**
 * Checks an access token against the current state of the store: signature and times, not
 * revoked, and its authorization and application still exist, are enabled and unexpired.
 * Network rules are applied with `enforce` by the caller, against today's policy.
 */
export async function resolveToken(
  deps: { db: Knex; signer: TokenSigner },
  token: string,
  now: Date,
): Promise<{ verified: VerifiedToken; principal: Principal } | { invalid: string }> {
  let verified: VerifiedToken;
  try {
    verified = await deps.signer.verify(token, now);
  } catch (e) {
    return { invalid: `token rejected: ${(e as Error).message}` };
  }
  const { claims } = verified;
  const record = await authorizations.byClientId(deps.db, claims.client_id, claims.jti);
  if (!record || record.authorization.id !== claims.authorization_id) return { invalid: "authorization no longer exists" };
  if (record.tokenRevoked) return { invalid: "token revoked" };
  return { verified, principal: principalOf(record, "bearer", verified) };
}

/** The principal of a valid, current bearer token; the caller then applies the policy (`enforce`). */
export async function authenticateBearer(deps: { db: Knex; signer: TokenSigner }, token: string, now: Date): Promise<Principal> {
  const resolved = await resolveToken(deps, token, now);
  if ("invalid" in resolved) throw UnauthenticatedError.token(resolved.invalid);
  return resolved.principal;
}
