/**
 * OAuth 1.0 (RFC 5849) signatures as A2A uses them over gRPC, shared by A2A (which verifies)
 * and the SDK (which signs): two-legged, HMAC-SHA1 or HMAC-SHA256, every call signed.
 *
 * The signed request: method "POST", base string URI "https://<authority><path>" where the
 * path is the gRPC method path, and the `oauth_*` protocol parameters, including
 * `oauth_body_hash` (base64 SHA-1 or SHA-256, matching the signature method, of the request
 * message's serialized bytes).
 */
import { createHash, createHmac, randomBytes } from "node:crypto";

export type SignatureMethod = "HMAC-SHA1" | "HMAC-SHA256";
/** What A2A accepts; HMAC-SHA512 is computed only for completeness (test vectors). */
export const SIGNATURE_METHODS: readonly SignatureMethod[] = ["HMAC-SHA1", "HMAC-SHA256"];
const HASHES: Record<string, string> = { "HMAC-SHA1": "sha1", "HMAC-SHA256": "sha256", "HMAC-SHA512": "sha512" };

/** The protocol parameters every A2A request carries (oauth_version is optional, RFC 5849 §3.1). */
export const REQUIRED_PARAMETERS = [
  "oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_timestamp", "oauth_nonce", "oauth_body_hash", "oauth_signature",
] as const;

/** RFC 5849 §3.6: unreserved characters stay, every other UTF-8 byte is %XX (upper case). */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** RFC 5849 §3.4.1.3.2: encode names and values, sort by name then value, join. */
export function normalizeParameters(params: ReadonlyArray<readonly [string, string]>): string {
  const encoded = params.map(([k, v]) => [percentEncode(k), percentEncode(v)] as const);
  encoded.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return encoded.map(([k, v]) => `${k}=${v}`).join("&");
}

/**
 * RFC 5849 §3.4.1.2 for A2A's calls: "https://" + authority + path, the host in lower case
 * and the default port (443) left out.
 */
export function baseStringUri(authority: string, path: string): string {
  const host = authority.toLowerCase().replace(/:443$/, "");
  return `https://${host}${path}`;
}

/** RFC 5849 §3.4.1.1. */
export function signatureBaseString(httpMethod: string, uri: string, params: ReadonlyArray<readonly [string, string]>): string {
  return [httpMethod.toUpperCase(), percentEncode(uri), percentEncode(normalizeParameters(params))].join("&");
}

/** RFC 5849 §3.4.2: HMAC over the base string, key enc(consumer secret) & enc(token secret); base64. */
export function hmacSignature(method: string, baseString: string, consumerSecret: string, tokenSecret: string): string {
  const hash = HASHES[method];
  if (!hash) throw new Error(`unsupported signature method "${method}"`);
  return createHmac(hash, `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`).update(baseString).digest("base64");
}

/** oauth_body_hash: base64 digest of the body with the signature method's hash. */
export function bodyHash(method: SignatureMethod, body: Uint8Array): string {
  return createHash(HASHES[method]).update(body).digest("base64");
}

/** A malformed Authorization header: names the parameter and the rule. */
export class OAuth1FormatError extends Error {
  constructor(readonly parameter: string, readonly rule: string) {
    super(`${parameter}: ${rule}`);
  }
}

/**
 * Parses `OAuth k="v", …` (RFC 5849 §3.5.1) into decoded pairs, in order. Rejects a
 * duplicated parameter, a value that is not quoted, and text that is not such a list.
 */
export function parseAuthorizationHeader(header: string): Map<string, string> {
  const m = header.match(/^OAuth\s+(.*)$/is);
  if (!m) throw new OAuth1FormatError("authorization", 'must start with "OAuth "');
  const out = new Map<string, string>();
  const rest = m[1].trim();
  const item = /\s*([A-Za-z0-9_.~%-]+)\s*=\s*"([^"]*)"\s*(,|$)/y;
  let at = 0;
  while (at < rest.length) {
    item.lastIndex = at;
    const p = item.exec(rest);
    if (!p) throw new OAuth1FormatError("authorization", `cannot read the parameter list at character ${at + 1}: expected name="value" pairs separated by commas`);
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(p[1]);
      value = decodeURIComponent(p[2]);
    } catch {
      throw new OAuth1FormatError(p[1], "is not valid percent-encoding");
    }
    if (out.has(name)) throw new OAuth1FormatError(name, "appears more than once");
    out.set(name, value);
    at = item.lastIndex;
    if (p[3] === "" && at < rest.length) throw new OAuth1FormatError("authorization", "parameters must be separated by commas");
  }
  return out;
}

export function formatAuthorizationHeader(params: ReadonlyArray<readonly [string, string]>): string {
  return `OAuth ${params.map(([k, v]) => `${percentEncode(k)}="${percentEncode(v)}"`).join(", ")}`;
}

/** The protocol parameters that are signed: every one but oauth_signature and realm (§3.4.1.3.1). */
export function signedParameters(params: ReadonlyMap<string, string>): Array<[string, string]> {
  return [...params].filter(([k]) => k !== "oauth_signature" && k !== "realm");
}

export interface OAuth1Keys {
  readonly consumerKey: string;
  readonly consumerSecret: string;
  readonly token: string;
  readonly tokenSecret: string;
}

/**
 * The Authorization header for one gRPC call: `authority` as the client dials it, `path` the
 * method path, `body` the serialized request message.
 */
export function signCall(
  keys: OAuth1Keys,
  call: { authority: string; path: string; body: Uint8Array },
  options: { signatureMethod?: SignatureMethod; now?: Date; nonce?: string } = {},
): string {
  const method = options.signatureMethod ?? "HMAC-SHA256";
  const params: Array<[string, string]> = [
    ["oauth_consumer_key", keys.consumerKey],
    ["oauth_token", keys.token],
    ["oauth_signature_method", method],
    ["oauth_timestamp", String(Math.floor((options.now ?? new Date()).getTime() / 1000))],
    ["oauth_nonce", options.nonce ?? randomBytes(16).toString("base64url")],
    ["oauth_version", "1.0"],
    ["oauth_body_hash", bodyHash(method, call.body)],
  ];
  const base = signatureBaseString("POST", baseStringUri(call.authority, call.path), params);
  params.push(["oauth_signature", hmacSignature(method, base, keys.consumerSecret, keys.tokenSecret)]);
  return formatAuthorizationHeader(params);
}
