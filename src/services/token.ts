import type {
  GetJwksRequest, GetJwksResponse, IntrospectTokenRequest, IntrospectTokenResponse, IssueTokenRequest,
  IssueTokenResponse, RevokeTokenRequest, RevokeTokenResponse,
} from "../../sdk/src/gen/a2a/v1/token_service";
import { checkAccess, levelAllows, scopeToGrants, type ResourceGrant } from "../../sdk/src/policy";
import { resolveToken } from "../auth/bearer";
import { verifyClientSecret } from "../auth/client-credentials";
import { enforce, networkRules, type Principal } from "../auth/principal";
import { InvalidArgumentError, PermissionDeniedError } from "../domain/errors";
import { noteCaller, parseBasic } from "../interceptors/authenticate";
import { metadataValue, presentedClientId, type CallContext } from "../interceptors/call-context";
import type { MethodSpec } from "../interceptors/unary";
import { authorizations } from "../store/authorizations";
import { revocations } from "../store/revocations";
import type { ServiceDeps } from "./deps";
import { grantToProto } from "./mappers";

const INACTIVE: IntrospectTokenResponse = {
  active: false, scope: "", clientId: "", tokenType: "", exp: 0, iat: 0, sub: "", aud: [], iss: "", jti: "",
  applicationId: "", authorizationId: "", grants: [], allowedIps: [], allowedReferers: [],
};

/** Client credentials from the body (client_secret_post) or Basic metadata, never both (RFC 6749 §2.3). */
function presentedCredentials(req: IssueTokenRequest, ctx: CallContext): { clientId: string; clientSecret: string } {
  const header = metadataValue(ctx.metadata, "authorization");
  const basic = header ? parseBasic(header) : undefined;
  if (basic && (req.clientId || req.clientSecret)) {
    throw new InvalidArgumentError("client_secret", "send the credentials either in the request or as Basic metadata, not both (RFC 6749 §2.3)");
  }
  const creds = basic ?? { clientId: req.clientId, clientSecret: req.clientSecret };
  if (!creds.clientId) throw new InvalidArgumentError("client_id", "is required");
  if (!creds.clientSecret) throw new InvalidArgumentError("client_secret", "is required");
  return creds;
}

/** The grants a token request asks for: all of them, or the requested scope if each item is granted. */
function requestedGrants(scope: string, granted: readonly ResourceGrant[]): ResourceGrant[] {
  if (!scope.trim()) return [...granted];
  let requested: ResourceGrant[];
  try {
    requested = scopeToGrants(scope);
  } catch (e) {
    throw new InvalidArgumentError("scope", (e as Error).message);
  }
  for (const r of requested) {
    const g = granted.find((x) => x.resource === r.resource);
    if (!g || !levelAllows(g.level, r.level === "read_write" ? "write" : "read")) {
      throw new PermissionDeniedError(`scope: "${r.resource}:${r.level === "read_write" ? "write" : "read"}" is not granted to this authorization (RFC 6749 §5.2 invalid_scope)`);
    }
  }
  return requested;
}

function audience(aud: string | string[] | undefined): string[] {
  return Array.isArray(aud) ? aud : aud ? [aud] : [];
}

/**
 * Who may introspect a token: its own client; a resource server whose authorization grants a
 * resource in the token's audience (least privilege for guards); or READ on "a2a".
 */
function mayIntrospect(caller: Principal, holder: string, aud: string[], net: CallContext): boolean {
  if (caller.clientId === holder) return true;
  if (aud.some((resource) => caller.subject.grants.some((g) => g.resource === resource))) return true;
  return checkAccess(caller.subject, { now: net.now, ip: net.ip, referer: net.referer, resource: "a2a", access: "read" }) === undefined;
}

export function tokenMethods(deps: ServiceDeps) {
  const { db, signer } = deps;

  /** RFC 6749 §4.4: client credentials grant. */
  const issueToken: MethodSpec<IssueTokenRequest, IssueTokenResponse> = {
    rule: "public",
    async handle(req, ctx) {
      if (!req.grantType) throw new InvalidArgumentError("grant_type", 'is required: "client_credentials"');
      if (req.grantType !== "client_credentials") {
        throw new InvalidArgumentError("grant_type", `"${req.grantType.slice(0, 40)}" is not supported; use "client_credentials" (RFC 6749 §5.2 unsupported_grant_type)`);
      }
      const creds = presentedCredentials(req, ctx);
      ctx.audit.clientId = presentedClientId(creds.clientId);
      const principal = await verifyClientSecret(deps, creds.clientId, creds.clientSecret);
      noteCaller(ctx, principal);
      enforce(principal, ctx);
      const grants = requestedGrants(req.scope, principal.subject.grants);
      ctx.audit.resource = [...new Set(grants.map((g) => g.resource))].join(" ");
      const issued = await signer.issue({
        clientId: principal.clientId, applicationId: principal.applicationId, authorizationId: principal.authorizationId,
        grants, ...networkRules(principal.subject), now: ctx.now, notAfter: principal.subject.expiresAt,
      });
      ctx.audit.target = `token ${issued.jti}`;
      await authorizations.touch(db, principal.authorizationId, ctx.ip, ctx.now);
      return { accessToken: issued.token, tokenType: "Bearer", expiresIn: issued.expiresIn, scope: issued.scope };
    },
  };

  /** RFC 7662. Whatever makes a token unusable answers only `active: false`. */
  const introspectToken: MethodSpec<IntrospectTokenRequest, IntrospectTokenResponse> = {
    rule: "client",
    async handle(req, ctx) {
      if (!req.token) throw new InvalidArgumentError("token", "is required");
      const caller = ctx.principal!;
      const resolved = await resolveToken(deps, req.token, ctx.now);
      if ("invalid" in resolved) return INACTIVE;
      const { verified, principal } = resolved;
      ctx.audit.target = `token ${verified.claims.jti} of ${principal.clientId}`;
      if (!mayIntrospect(caller, principal.clientId, audience(verified.claims.aud), ctx)) return INACTIVE;
      // The token's holder is elsewhere: check its state and expiry here, its network rules at the guard.
      const state = checkAccess({ ...principal.subject, allowedIps: ["*"], allowedReferers: [] }, { now: ctx.now });
      if (state) return INACTIVE;
      const c = verified.claims;
      return {
        active: true, scope: c.scope, clientId: c.client_id, tokenType: "Bearer", exp: c.exp, iat: c.iat, sub: c.sub,
        aud: audience(c.aud), iss: c.iss ?? "", jti: c.jti,
        applicationId: principal.applicationId, authorizationId: principal.authorizationId,
        grants: principal.subject.grants.map(grantToProto),
        ...networkRules(principal.subject),
      };
    },
  };

  /** RFC 7009. An invalid or unknown token is not an error (§2.2). */
  const revokeToken: MethodSpec<RevokeTokenRequest, RevokeTokenResponse> = {
    rule: "client",
    async handle(req, ctx) {
      if (!req.token) throw new InvalidArgumentError("token", "is required");
      const caller = ctx.principal!;
      let claims;
      try {
        claims = (await signer.verify(req.token, ctx.now)).claims;
      } catch {
        return {};
      }
      ctx.audit.target = `token ${claims.jti} of ${claims.client_id}`;
      const isAdmin = checkAccess(caller.subject, { now: ctx.now, ip: ctx.ip, referer: ctx.referer, resource: "a2a", access: "write" }) === undefined;
      if (claims.client_id !== caller.clientId && !isAdmin) {
        throw new PermissionDeniedError("token: was not issued to this client (RFC 7009 §2.1 unauthorized_client)");
      }
      await revocations.revoke(db, claims.jti, new Date(claims.exp * 1000), caller.clientId, ctx.now);
      return {};
    },
  };

  const getJwks: MethodSpec<GetJwksRequest, GetJwksResponse> = {
    rule: "public",
    async handle() {
      return {
        keys: signer.publicKeys().map((k) => ({ kty: k.kty ?? "", crv: k.crv ?? "", x: k.x ?? "", kid: k.kid ?? "", alg: k.alg ?? "", use: k.use ?? "" })),
      };
    },
  };

  return { issueToken, introspectToken, revokeToken, getJwks };
}
