import { randomUUID } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";
import type { ResourceGrant } from "../../sdk/src/policy";
import { grantsToScope } from "../../sdk/src/policy/scope";
import type { KeyRing } from "./secrets";

/** Claims of an A2A access token (RFC 9068 JWT profile plus A2A's own). */
export interface AccessTokenClaims extends JWTPayload {
  client_id: string;
  scope: string;
  application_id: string;
  authorization_id: string;
  /** The authorization's network rules at issue time, for guards that do not introspect. */
  allowed_ips: string[];
  allowed_referers: string[];
}

export interface VerifiedToken {
  readonly claims: AccessTokenClaims & { jti: string; exp: number; iat: number; sub: string };
}

/** Where signing keys live (the store), so that every A2A node signs and verifies alike. */
export interface SigningKeyStore {
  published(now: Date): Promise<{ kid: string; publicJwk: JWK; privateSealed: string; retired: boolean }[]>;
  /** Inserts a key unless an active one appeared meanwhile (another node started too). */
  insertIfNoneActive(key: { kid: string; publicJwk: JWK; privateSealed: string }): Promise<void>;
}

const ALG = "EdDSA";

/**
 * Signs and verifies access tokens with Ed25519 keys kept in the store, private halves sealed
 * under the master key. A token whose `kid` is unknown makes it reload keys once, so a key
 * created by another node is picked up.
 */
export class TokenSigner {
  private active?: { kid: string; key: CryptoKey };
  private readonly verifyKeys = new Map<string, CryptoKey>();
  private jwks: JWK[] = [];
  private lastReload = 0;

  constructor(
    private readonly store: SigningKeyStore,
    private readonly ring: KeyRing,
    readonly issuer: string,
    readonly ttlSeconds: number,
  ) {}

  async init(): Promise<void> {
    await this.reload();
    if (!this.active) {
      const { publicKey, privateKey } = await generateKeyPair(ALG, { crv: "Ed25519", extractable: true });
      const publicJwk = await exportJWK(publicKey);
      const kid = await calculateJwkThumbprint(publicJwk);
      const privateJwk = await exportJWK(privateKey);
      await this.store.insertIfNoneActive({
        kid,
        publicJwk: { ...publicJwk, kid, alg: ALG, use: "sig" },
        privateSealed: this.ring.encrypt(JSON.stringify(privateJwk), `signing-key:${kid}`),
      });
      await this.reload();
    }
    if (!this.active) throw new Error("no active signing key after creating one");
  }

  private async reload(): Promise<void> {
    this.lastReload = Date.now();
    const keys = await this.store.published(new Date());
    const jwks: JWK[] = [];
    for (const k of keys) {
      if (!this.verifyKeys.has(k.kid)) this.verifyKeys.set(k.kid, (await importJWK(k.publicJwk, ALG)) as CryptoKey);
      jwks.push(k.publicJwk);
      if (!k.retired && !this.active) {
        const privateJwk = JSON.parse(this.ring.decrypt(k.privateSealed, `signing-key:${k.kid}`)) as JWK;
        this.active = { kid: k.kid, key: (await importJWK(privateJwk, ALG)) as CryptoKey };
      }
    }
    this.jwks = jwks;
  }

  publicKeys(): JWK[] {
    return this.jwks;
  }

  async issue(subject: {
    clientId: string;
    applicationId: string;
    authorizationId: string;
    grants: readonly ResourceGrant[];
    allowedIps: string[];
    allowedReferers: string[];
    now: Date;
    /** The token never outlives the authorization. */
    notAfter?: Date;
  }): Promise<{ token: string; expiresIn: number; scope: string; jti: string }> {
    if (!this.active) throw new Error("TokenSigner.init() was not called");
    const iat = Math.floor(subject.now.getTime() / 1000);
    let exp = iat + this.ttlSeconds;
    if (subject.notAfter) exp = Math.min(exp, Math.floor(subject.notAfter.getTime() / 1000));
    const jti = randomUUID();
    const scope = grantsToScope(subject.grants);
    const claims: AccessTokenClaims = {
      client_id: subject.clientId,
      scope,
      application_id: subject.applicationId,
      authorization_id: subject.authorizationId,
      allowed_ips: subject.allowedIps,
      allowed_referers: subject.allowedReferers,
    };
    // RFC 9068 §2.1: typ "at+jwt"; §2.2: iss, exp, aud, sub, client_id, iat, jti.
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: ALG, kid: this.active.kid, typ: "at+jwt" })
      .setIssuer(this.issuer)
      .setSubject(subject.clientId)
      .setAudience([...new Set(subject.grants.map((g) => g.resource))])
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .setJti(jti)
      .sign(this.active.key);
    return { token, expiresIn: exp - iat, scope, jti };
  }

  /** Verifies signature, issuer, type and times. Throws on any failure (callers map it). */
  async verify(token: string, now: Date): Promise<VerifiedToken> {
    const { payload } = await jwtVerify<AccessTokenClaims>(
      token,
      async (header) => {
        const kid = header.kid ?? "";
        let key = this.verifyKeys.get(kid);
        // An unknown kid may be a key another node just created; reload at most once a second.
        if (!key && Date.now() - this.lastReload > 1000) {
          await this.reload();
          key = this.verifyKeys.get(kid);
        }
        if (!key) throw new Error("unknown kid");
        return key;
      },
      { issuer: this.issuer, algorithms: [ALG], typ: "at+jwt", currentDate: now, requiredClaims: ["jti", "exp", "iat", "sub"] },
    );
    if (typeof payload.client_id !== "string" || typeof payload.authorization_id !== "string") throw new Error("missing A2A claims");
    return { claims: payload as VerifiedToken["claims"] };
  }
}
