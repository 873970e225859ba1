import type { Credentials } from "../../sdk/src/gen/a2a/v1/types";
import type { AuthMethodName, StoredKeys } from "../store/records";
import { newClientSecret, newOAuth1Token, newOAuth1TokenSecret, type KeyRing } from "./secrets";

/** Encryption contexts: a sealed value copied onto another row (or field) fails to open. */
export const sealContext = {
  clientSecret: (clientId: string) => `client-secret:${clientId}`,
  oauth1TokenSecret: (clientId: string) => `oauth1-token-secret:${clientId}`,
};

/**
 * New keys for an authorization of an application using `method`: what the administrator is
 * shown once, and what the store keeps (hashes and sealed secrets).
 * - oauth2: client secret;
 * - oauth1: consumer secret (the client secret) plus token and token secret;
 * - aws: nothing secret, the workload's AWS identity is the proof.
 */
export function issueKeys(method: AuthMethodName, clientId: string, ring: KeyRing): { credentials: Credentials; stored: StoredKeys } {
  if (method === "aws") return { credentials: { clientId, clientSecret: "", token: "", tokenSecret: "" }, stored: {} };
  const secret = newClientSecret();
  const stored: StoredKeys = { secretHash: ring.hashSecret(secret), secretSealed: ring.encrypt(secret, sealContext.clientSecret(clientId)) };
  if (method === "oauth2") return { credentials: { clientId, clientSecret: secret, token: "", tokenSecret: "" }, stored };
  const token = newOAuth1Token();
  const tokenSecret = newOAuth1TokenSecret();
  return {
    credentials: { clientId, clientSecret: secret, token, tokenSecret },
    stored: { ...stored, oauth1Token: token, oauth1TokenSecretSealed: ring.encrypt(tokenSecret, sealContext.oauth1TokenSecret(clientId)) },
  };
}

/** Opens the stored keys again (RevealAuthorizationCredentials). */
export function revealKeys(clientId: string, stored: StoredKeys, ring: KeyRing): Credentials {
  return {
    clientId,
    clientSecret: stored.secretSealed ? ring.decrypt(stored.secretSealed, sealContext.clientSecret(clientId)) : "",
    token: stored.oauth1Token ?? "",
    tokenSecret: stored.oauth1TokenSecretSealed ? ring.decrypt(stored.oauth1TokenSecretSealed, sealContext.oauth1TokenSecret(clientId)) : "",
  };
}
