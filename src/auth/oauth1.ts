import { timingSafeEqual } from "node:crypto";
import type { Knex } from "knex";
import {
  baseStringUri, hmacSignature, OAuth1FormatError, parseAuthorizationHeader, REQUIRED_PARAMETERS, SIGNATURE_METHODS,
  signatureBaseString, signedParameters, type SignatureMethod,
} from "../../sdk/src/oauth1";
import { InvalidArgumentError, UnauthenticatedError } from "../domain/errors";
import { sealContext } from "../domain/keys";
import type { KeyRing } from "../domain/secrets";
import { authorizations } from "../store/authorizations";
import { nonces } from "../store/nonces";
import { principalOf, type Principal } from "./principal";

export interface OAuth1Settings {
  /** Seconds a timestamp may be off from now (both ways); nonces are kept that long. */
  readonly oauth1WindowSeconds: number;
  /** Extra authorities clients may have signed for (public names of proxies). */
  readonly publicAuthorities: readonly string[];
}

/** One signed call as received: by A2A itself, or by a resource server that asks A2A (Authorize). */
export interface SignedCall {
  /** The `authorization` metadata, "OAuth …". */
  readonly header: string;
  /** The gRPC method path, "/pkg.Service/Method". */
  readonly path: string;
  /** The `:authority` the server received. */
  readonly authority: string;
  /** SHA-1 and SHA-256 of the request message's bytes as received. */
  readonly bodySha1: Buffer;
  readonly bodySha256: Buffer;
  readonly now: Date;
}

const MAX_NONCE = 128;

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The protocol parameters, checked for form: INVALID_ARGUMENT names the parameter and the rule. */
function readParameters(header: string): Map<string, string> {
  let params: Map<string, string>;
  try {
    params = parseAuthorizationHeader(header);
  } catch (e) {
    if (e instanceof OAuth1FormatError) throw new InvalidArgumentError(e.parameter === "authorization" ? "authorization" : `authorization.${e.parameter}`, e.rule);
    throw e;
  }
  for (const name of REQUIRED_PARAMETERS) {
    if (!params.get(name)) throw new InvalidArgumentError(`authorization.${name}`, "is required (RFC 5849 §3.5.1; A2A also requires oauth_body_hash)");
  }
  for (const name of params.keys()) {
    if (name !== "realm" && !name.startsWith("oauth_")) {
      throw new InvalidArgumentError(`authorization.${name.slice(0, 40)}`, "only oauth_* protocol parameters and realm may be sent (RFC 5849 §3.5.1)");
    }
  }
  const method = params.get("oauth_signature_method")!;
  if (!SIGNATURE_METHODS.includes(method as SignatureMethod)) {
    throw new InvalidArgumentError("authorization.oauth_signature_method", `"${method.slice(0, 40)}" is not supported; use HMAC-SHA256 or HMAC-SHA1`);
  }
  const version = params.get("oauth_version");
  if (version !== undefined && version !== "1.0") {
    throw new InvalidArgumentError("authorization.oauth_version", `must be "1.0" when present, got "${version.slice(0, 40)}"`);
  }
  if (!/^\d{1,12}$/.test(params.get("oauth_timestamp")!)) {
    throw new InvalidArgumentError("authorization.oauth_timestamp", "must be whole seconds since 1970-01-01 UTC");
  }
  if (params.get("oauth_nonce")!.length > MAX_NONCE) {
    throw new InvalidArgumentError("authorization.oauth_nonce", `must be at most ${MAX_NONCE} characters`);
  }
  return params;
}

/**
 * Verifies an OAuth 1.0 signed call (RFC 5849 §3.2, two-legged, with body hash) and returns its
 * principal; the caller then applies the policy (`enforce`). Order: form (INVALID_ARGUMENT),
 * then keys, signature, body hash, timestamp window and nonce, each failure the same
 * UNAUTHENTICATED "invalid client credentials" with its reason kept for the audit trail. The
 * nonce is recorded only for a request whose signature holds, so nobody can burn another
 * client's nonces. `onConsumerKey` learns the presented consumer key early, for attribution.
 */
export async function verifyOAuth1(
  deps: { db: Knex; ring: KeyRing; config: OAuth1Settings },
  call: SignedCall,
  onConsumerKey?: (consumerKey: string) => void,
): Promise<Principal> {
  const params = readParameters(call.header);
  const consumerKey = params.get("oauth_consumer_key")!;
  onConsumerKey?.(consumerKey);
  const record = await authorizations.byClientId(deps.db, consumerKey);
  if (!record) throw UnauthenticatedError.client("unknown oauth_consumer_key");
  if (record.application.authMethod !== "oauth1") throw UnauthenticatedError.client(`application uses ${record.application.authMethod}, not oauth1`);
  const { keys } = record;
  if (!keys.oauth1Token || !keys.secretSealed || !keys.oauth1TokenSecretSealed) throw UnauthenticatedError.client("authorization has no OAuth 1.0 keys");
  if (!sameText(params.get("oauth_token")!, keys.oauth1Token)) throw UnauthenticatedError.client("wrong oauth_token");

  const method = params.get("oauth_signature_method") as SignatureMethod;
  const consumerSecret = deps.ring.decrypt(keys.secretSealed, sealContext.clientSecret(consumerKey));
  const tokenSecret = deps.ring.decrypt(keys.oauth1TokenSecretSealed, sealContext.oauth1TokenSecret(consumerKey));
  const signed = signedParameters(params);
  const presented = params.get("oauth_signature")!;
  const authorities = [...new Set([call.authority.toLowerCase(), ...deps.config.publicAuthorities])];
  const valid = authorities.some((authority) =>
    sameText(hmacSignature(method, signatureBaseString("POST", baseStringUri(authority, call.path), signed), consumerSecret, tokenSecret), presented),
  );
  if (!valid) throw UnauthenticatedError.client("bad oauth_signature");

  const digest = (method === "HMAC-SHA1" ? call.bodySha1 : call.bodySha256).toString("base64");
  if (!sameText(params.get("oauth_body_hash")!, digest)) throw UnauthenticatedError.client("oauth_body_hash does not match the request message");

  const window = deps.config.oauth1WindowSeconds;
  const timestamp = Number(params.get("oauth_timestamp"));
  const skew = timestamp - Math.floor(call.now.getTime() / 1000);
  if (Math.abs(skew) > window) throw UnauthenticatedError.client(`oauth_timestamp is ${skew} s from the server's clock (window ±${window} s)`);
  const fresh = await nonces.remember(deps.db, consumerKey, params.get("oauth_nonce")!, new Date((timestamp + window) * 1000));
  if (!fresh) throw UnauthenticatedError.client("oauth_nonce already used (replay)");
  return principalOf(record, "oauth1");
}
