import { createHash } from "node:crypto";
import {
  Metadata, status, type Server, type ChannelCredentials, type handleServerStreamingCall, type handleUnaryCall,
  type ServerUnaryCall, type ServerWritableStream, type ServiceDefinition, type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { jwtVerify, type JWTPayload } from "jose";
import { createClient, type PromiseClient } from "./client";
import { Permission } from "./gen/a2a/v1/types";
import { TokenServiceDefinition, type AuthorizeResponse, type IntrospectTokenResponse } from "./gen/a2a/v1/token_service";
import { bearerAuth } from "./interceptors";
import { JwksCache } from "./jwks";
import { checkAccess, clientIp, narrowGrants, ipFromPeer, parseIpRule, parseRefererRule, scopeToGrants, type Access, type AccessSubject, type IpRule } from "./policy";
import { rawRequest, withRawRequests } from "./raw-request";
import { ClientCredentialsTokenSource } from "./token-source";

export interface GuardOptions {
  /** A2A's address (host:port): where the guard fetches signing keys and introspects. */
  readonly a2aAddress: string;
  readonly credentials?: ChannelCredentials;
  /** The resource this server is, as named in A2A (e.g. "pam-core"). */
  readonly resource: string;
  /** Expected `iss`; default "a2a". */
  readonly issuer?: string;
  /** Peers whose X-Forwarded-For is believed (CIDR blocks). */
  readonly trustedProxies?: readonly string[];
  /**
   * Ask A2A about every token (RFC 7662), cached per token for `cacheMs` (default 1000), so a
   * disabled application, a revoked token or changed rules take effect within that time. The
   * credentials are this resource server's own A2A authorization (a grant on `resource` is
   * enough). Without it, the guard decides from the token alone until it expires.
   */
  readonly introspection?: { readonly clientId: string; readonly clientSecret: string; readonly cacheMs?: number };
  /**
   * This resource server's own A2A authorization (OAuth 2.0 keys with a grant on `resource`),
   * used to ask A2A about OAuth 1.0 signed calls (TokenService.Authorize): only A2A holds the
   * secrets that verify them. Default: the introspection credentials. Without either, OAuth 1.0
   * calls are refused.
   */
  readonly account?: { readonly clientId: string; readonly clientSecret: string };
  readonly clockToleranceSeconds?: number;
}

/** Who called, as the guard established it; `guardPrincipal(call)` returns it in handlers. */
export interface GuardPrincipal {
  readonly clientId: string;
  readonly applicationId: string;
  readonly authorizationId: string;
  readonly scope: string;
  readonly ip?: string;
  /** The access token's id; empty for an OAuth 1.0 signed call. */
  readonly tokenId: string;
  /** "token": an A2A access token (OAuth 2.0 or AWS grant); "oauth1": a signed call checked by A2A. */
  readonly via: "token" | "oauth1";
}

/** What the guard reads of a grpc-js server call. */
export interface GuardedCall {
  readonly metadata: Metadata;
  readonly request?: unknown;
  getPeer(): string;
  getPath(): string;
  getHost(): string;
}

/** A refusal, with the gRPC status the guard answers. */
export class GuardError extends Error {
  constructor(readonly code: status, message: string) {
    super(message);
  }
}

const INVALID_TOKEN = "invalid access token";
const principals = new WeakMap<object, GuardPrincipal>();

/** The principal of a call the guard let through. */
export function guardPrincipal(call: object): GuardPrincipal | undefined {
  return principals.get(call);
}

interface TokenClaims extends JWTPayload {
  client_id: string;
  application_id: string;
  authorization_id: string;
  scope: string;
  allowed_ips: string[];
  allowed_referers: string[];
}

/**
 * Enforces A2A access tokens on a grpc-js server. For each call it verifies the JWT against
 * A2A's JWKS (signature, issuer, expiry, audience), then applies the same policy as A2A:
 * resource and read/write of the method, source IP, referer; with introspection, against the
 * authorization's current state. Refusals: UNAUTHENTICATED (no, bad, expired or revoked
 * token) or PERMISSION_DENIED (rule broken, with the rule named).
 */
export class Guard {
  private readonly jwks: JwksCache;
  private readonly trustedProxies: IpRule[];
  /** A2A's TokenService, as this resource server (introspection and Authorize). */
  private readonly a2a?: { client: PromiseClient<typeof TokenServiceDefinition>; tokens: ClientCredentialsTokenSource };
  private readonly introspectFor?: number;
  private readonly cache = new Map<string, { at: number; expiresAt: number; subject: Promise<AccessSubject | undefined> }>();

  constructor(private readonly options: GuardOptions) {
    this.jwks = new JwksCache(options.a2aAddress, options.credentials);
    this.trustedProxies = (options.trustedProxies ?? []).map(parseIpRule);
    const account = options.account ?? options.introspection;
    if (account) {
      const tokens = new ClientCredentialsTokenSource({
        address: options.a2aAddress, credentials: options.credentials, clientId: account.clientId, clientSecret: account.clientSecret,
      });
      const client = createClient(TokenServiceDefinition, options.a2aAddress, { credentials: options.credentials, interceptors: [bearerAuth(tokens)] });
      this.a2a = { client, tokens };
    }
    if (options.introspection) this.introspectFor = options.introspection.cacheMs ?? 1000;
  }

  /** Decides one call. Throws GuardError when it is refused. */
  async check(call: GuardedCall, access: Access): Promise<GuardPrincipal> {
    const header = String(call.metadata.get("authorization")[0] ?? "");
    if (/^OAuth\s/i.test(header)) return this.checkSigned(call, header, access);
    const bearer = header.match(/^Bearer\s+(\S+)\s*$/i);
    if (!bearer) {
      throw new GuardError(status.UNAUTHENTICATED, 'missing credentials: send metadata "authorization: Bearer <access token>" or an OAuth 1.0 signature "authorization: OAuth …"');
    }
    let claims: TokenClaims;
    try {
      const verified = await jwtVerify<TokenClaims>(bearer[1], this.jwks.getKey, {
        issuer: this.options.issuer ?? "a2a",
        audience: this.options.resource,
        algorithms: ["EdDSA"],
        typ: "at+jwt",
        clockTolerance: this.options.clockToleranceSeconds ?? 0,
        requiredClaims: ["jti", "exp", "client_id"],
      });
      claims = verified.payload;
    } catch (e) {
      const unavailable = (e as { code?: number }).code === status.UNAVAILABLE;
      if (unavailable) throw new GuardError(status.UNAVAILABLE, "cannot reach A2A to fetch its signing keys");
      throw new GuardError(status.UNAUTHENTICATED, INVALID_TOKEN);
    }

    const subject = await this.subjectOf(bearer[1], claims);
    if (!subject) throw new GuardError(status.UNAUTHENTICATED, INVALID_TOKEN);
    const { ip, referer } = this.origin(call);
    const denial = checkAccess(subject, { now: new Date(), ip, referer, resource: this.options.resource, access });
    if (denial) {
      throw denial.kind === "credentials" ? new GuardError(status.UNAUTHENTICATED, INVALID_TOKEN) : new GuardError(status.PERMISSION_DENIED, denial.message);
    }
    return {
      clientId: claims.client_id, applicationId: claims.application_id, authorizationId: claims.authorization_id, scope: claims.scope, ip,
      tokenId: claims.jti!, via: "token",
    };
  }

  /** The caller's address (X-Forwarded-For only from trusted proxies) and referer. */
  private origin(call: GuardedCall): { ip?: string; referer?: string } {
    const ip = clientIp(ipFromPeer(call.getPeer()), String(call.metadata.get("x-forwarded-for")[0] ?? "") || undefined, this.trustedProxies);
    const referer = call.metadata.get("referer")[0];
    return { ip, referer: referer === undefined ? undefined : String(referer) };
  }

  /**
   * An OAuth 1.0 signed call: only A2A holds the secrets, so the guard sends A2A what it
   * received (path, authority, the authorization metadata, the hashes of the request bytes,
   * the caller's address and referer) and applies the decision. Nothing is cached: every
   * signature is single-use.
   */
  private async checkSigned(call: GuardedCall, header: string, access: Access): Promise<GuardPrincipal> {
    if (!this.a2a) throw new GuardError(status.UNAUTHENTICATED, "this server does not accept OAuth 1.0 signed calls; send an A2A access token");
    const body = rawRequest(call.request);
    if (!body) {
      throw new GuardError(status.INTERNAL, "the A2A guard cannot check OAuth 1.0 signatures here: add the service with guard.addService(), which keeps the request bytes");
    }
    const { ip, referer } = this.origin(call);
    let answer: AuthorizeResponse;
    try {
      answer = await this.a2a.client.authorize({
        method: call.getPath(), authority: call.getHost(), authorization: header,
        bodySha1: createHash("sha1").update(body).digest(), bodySha256: createHash("sha256").update(body).digest(),
        peerIp: ip ?? "", referer: referer ?? "", resource: this.options.resource,
        permission: access === "write" ? Permission.PERMISSION_READ_WRITE : Permission.PERMISSION_READ,
      }, { deadline: 5000 });
    } catch (e) {
      throw new GuardError(status.UNAVAILABLE, `cannot check the call with A2A: ${(e as { details?: string }).details ?? String(e)}`);
    }
    if (!answer.allowed) throw new GuardError(answer.code as status, answer.message);
    return {
      clientId: answer.clientId, applicationId: answer.applicationId, authorizationId: answer.authorizationId, scope: answer.scope, ip,
      tokenId: "", via: "oauth1",
    };
  }

  /**
   * What the token may do, parsed once per token and cached: from A2A (introspection, fresh for
   * `cacheMs`) or from the token's own claims (which never change). Undefined: inactive.
   */
  private subjectOf(token: string, claims: TokenClaims): Promise<AccessSubject | undefined> {
    const now = Date.now();
    const jti = claims.jti!;
    const freshFor = this.introspectFor ?? Infinity;
    const hit = this.cache.get(jti);
    if (hit && now - hit.at < freshFor) return hit.subject;
    const subject = this.introspectFor !== undefined ? this.introspect(token, claims) : Promise.resolve(subjectFromClaims(claims));
    this.cache.set(jti, { at: now, expiresAt: (claims.exp ?? 0) * 1000, subject });
    if (this.cache.size > 10_000) {
      for (const [k, v] of this.cache) if (now - v.at >= freshFor || v.expiresAt <= now) this.cache.delete(k);
    }
    return subject;
  }

  private async introspect(token: string, claims: TokenClaims): Promise<AccessSubject | undefined> {
    let info: IntrospectTokenResponse;
    try {
      info = await this.a2a!.client.introspectToken({ token }, { deadline: 5000 });
    } catch (e) {
      this.cache.delete(claims.jti!);
      throw new GuardError(status.UNAVAILABLE, `cannot check the token with A2A: ${(e as { details?: string }).details ?? String(e)}`);
    }
    if (!info.active) return undefined;
    return {
      applicationEnabled: true, authorizationEnabled: true,
      // Introspection returns today's grants; the token's scope can only narrow them.
      grants: narrowGrants(info.grants.map((g) => ({ resource: g.resource, level: g.permission === Permission.PERMISSION_READ_WRITE ? "read_write" : "read" })), claims.scope),
      allowedIps: info.allowedIps.map(parseIpRule),
      allowedReferers: info.allowedReferers.map(parseRefererRule),
    };
  }

  /**
   * Adds a protected service to a grpc-js server: `protect` plus a definition that keeps each
   * request's bytes, which OAuth 1.0 signatures cover. The way to use the guard.
   */
  addService<Impl extends UntypedServiceImplementation>(server: Server, definition: ServiceDefinition, implementation: Impl, access: Partial<Record<keyof Impl, Access>>): void {
    server.addService(withRawRequests(definition), this.protect(definition, implementation, access));
  }

  /**
   * Wraps a grpc-js service implementation: every unary and server-streaming method is checked
   * before it runs. `access` names the methods that only read; any method not listed needs
   * "write" (safe by default). Add the service with `addService` (or `withRawRequests(definition)`)
   * to accept OAuth 1.0 signed calls as well as tokens.
   */
  protect<Impl extends UntypedServiceImplementation>(definition: ServiceDefinition, implementation: Impl, access: Partial<Record<keyof Impl, Access>>): Impl {
    const wrapped: UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(definition)) {
      const handler = implementation[name];
      const needed: Access = access[name as keyof Impl] ?? "write";
      if (method.requestStream) {
        // Not supported by the guard yet: refuse rather than let it through unchecked.
        wrapped[name] = ((call: { emit(e: string, v: unknown): void }) =>
          call.emit("error", { code: status.UNIMPLEMENTED, details: "client-streaming methods are not supported by the A2A guard" })) as never;
      } else if (method.responseStream) {
        wrapped[name] = ((call: ServerWritableStream<unknown, unknown>) => {
          this.check(call, needed).then(
            (p) => {
              principals.set(call, p);
              (handler as handleServerStreamingCall<unknown, unknown>)(call);
            },
            (e) => call.emit("error", toStatus(e)),
          );
        }) as handleServerStreamingCall<unknown, unknown>;
      } else {
        wrapped[name] = ((call: ServerUnaryCall<unknown, unknown>, callback: Parameters<handleUnaryCall<unknown, unknown>>[1]) => {
          this.check(call, needed).then(
            (p) => {
              principals.set(call, p);
              (handler as handleUnaryCall<unknown, unknown>)(call, callback);
            },
            (e) => callback(toStatus(e), null),
          );
        }) as handleUnaryCall<unknown, unknown>;
      }
    }
    return wrapped as Impl;
  }

  close(): void {
    this.jwks.close();
    this.a2a?.client.close();
    this.a2a?.tokens.close();
  }
}

/** The token's own view: its scope and the network rules it carries. */
function subjectFromClaims(claims: TokenClaims): AccessSubject {
  return {
    applicationEnabled: true, authorizationEnabled: true,
    grants: scopeToGrants(claims.scope ?? ""),
    allowedIps: (claims.allowed_ips ?? []).map(parseIpRule),
    allowedReferers: (claims.allowed_referers ?? []).map(parseRefererRule),
  };
}

function toStatus(e: unknown): { code: status; details: string } {
  if (e instanceof GuardError) return { code: e.code, details: e.message };
  return { code: status.INTERNAL, details: "the A2A guard failed" };
}

export function createGuard(options: GuardOptions): Guard {
  return new Guard(options);
}
