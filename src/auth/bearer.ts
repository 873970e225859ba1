import type { Knex } from "knex";
import { UnauthenticatedError } from "../domain/errors";
import type { TokenSigner, VerifiedToken } from "../domain/tokens";
import { authorizations } from "../store/authorizations";
import { enforce, principalOf, type NetContext, type Principal } from "./principal";

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

/** A bearer token for a call: valid, current, and its authorization's rules hold for `net`. */
export async function authenticateBearer(deps: { db: Knex; signer: TokenSigner }, token: string, net: NetContext): Promise<Principal> {
  const resolved = await resolveToken(deps, token, net.now);
  if ("invalid" in resolved) throw UnauthenticatedError.token(resolved.invalid);
  enforce(resolved.principal, net);
  return resolved.principal;
}
