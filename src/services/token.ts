import type {
  AuthorizeRequest, AuthorizeResponse, GetJwksRequest, GetJwksResponse, IntrospectTokenRequest, IntrospectTokenResponse,
  IssueTokenRequest, IssueTokenResponse, RevokeTokenRequest, RevokeTokenResponse,
} from "../../sdk/src/gen/a2a/v1/token_service";
import { AuthMethod, Permission } from "../../sdk/src/gen/a2a/v1/types";
import { checkAccess, levelAllows, normalizeIp, scopeToGrants, type ResourceGrant } from "../../sdk/src/policy";
import { arnMatches, callerIdentity, checkAwsRequest } from "../auth/aws-iam";
import { authenticateBearer, resolveToken } from "../auth/bearer";
import { verifyClientSecret } from "../auth/client-credentials";
import { verifyOAuth1 } from "../auth/oauth1";
import { enforce, mayAdminister, networkRules, principalOf, type Principal } from "../auth/principal";
import { A2AError, Code, InvalidArgumentError, PermissionDeniedError, UnauthenticatedError } from "../domain/errors";
import * as v from "../domain/validation";
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

/** Who a decision is about, and what it may do on the resource. */
function decision(subject: Principal | undefined, resource: string) {
  if (!subject) return { clientId: "", applicationId: "", applicationName: "", authorizationId: "", authMethod: AuthMethod.AUTH_METHOD_UNSPECIFIED, scope: "" };
  const grant = subject.subject.grants.find((g) => g.resource === resource);
  return {
    clientId: subject.clientId, applicationId: subject.applicationId, applicationName: subject.applicationName,
    authorizationId: subject.authorizationId, authMethod: AUTH_METHODS[subject.authMethod],
    scope: grant ? `${resource}:${grant.level === "read_write" ? "write" : "read"}` : "",
  };
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
  return mayAdminister(caller, net, "read");
}

/** The decision statuses Authorize reports; anything else (UNAVAILABLE, INTERNAL) fails the call itself. */
const DECISIONS: readonly number[] = [Code.UNAUTHENTICATED, Code.PERMISSION_DENIED, Code.INVALID_ARGUMENT];

const AUTH_METHODS = { oauth2: AuthMethod.AUTH_METHOD_OAUTH2, oauth1: AuthMethod.AUTH_METHOD_OAUTH1, aws: AuthMethod.AUTH_METHOD_AWS } as const;

export function tokenMethods(deps: ServiceDeps) {
  const { db, signer, config } = deps;

  /**
   * The AWS IAM grant: the workload's signed sts:GetCallerIdentity request, sent on to STS,
   * whose answer (the caller's ARN) must match one of the application's aws_arns.
   */
  async function awsPrincipal(req: IssueTokenRequest, ctx: CallContext): Promise<Principal> {
    if (!req.clientId) throw new InvalidArgumentError("client_id", "is required");
    if (req.clientSecret) throw new InvalidArgumentError("client_secret", 'must be empty for grant_type "aws_iam": the AWS identity is the proof');
    ctx.audit.clientId = presentedClientId(req.clientId);
    const checked = checkAwsRequest(config, req.awsRequest);
    // Look the client up before calling STS: unknown callers cannot make A2A send requests.
    const record = await authorizations.byClientId(db, req.clientId);
    if (!record) throw UnauthenticatedError.client("unknown client_id");
    if (record.application.authMethod !== "aws") throw UnauthenticatedError.client(`application uses ${record.application.authMethod}, not aws`);
    const identity = await callerIdentity(config, checked);
    ctx.audit.target = `aws identity ${identity.arn}`;
    if (!record.application.awsArns.some((p) => arnMatches(p, identity.canonical))) {
      throw UnauthenticatedError.client(`AWS identity ${identity.canonical} is not among the application's aws_arns`);
    }
    return principalOf(record, "aws");
  }

  /** RFC 6749 §4.4 client credentials grant, or the AWS IAM grant. */
  const issueToken: MethodSpec<IssueTokenRequest, IssueTokenResponse> = {
    rule: "public",
    async handle(req, ctx) {
      if (!req.grantType) throw new InvalidArgumentError("grant_type", 'is required: "client_credentials" or "aws_iam"');
      let principal: Principal;
      if (req.grantType === "client_credentials") {
        if (req.awsRequest) throw new InvalidArgumentError("aws_request", 'is only for grant_type "aws_iam"');
        const creds = presentedCredentials(req, ctx);
        ctx.audit.clientId = presentedClientId(creds.clientId);
        principal = await verifyClientSecret(deps, creds.clientId, creds.clientSecret);
      } else if (req.grantType === "aws_iam") {
        principal = await awsPrincipal(req, ctx);
      } else {
        throw new InvalidArgumentError("grant_type", `"${req.grantType.slice(0, 40)}" is not supported; use "client_credentials" or "aws_iam" (RFC 6749 §5.2 unsupported_grant_type)`);
      }
      noteCaller(ctx, principal);
      enforce(principal, ctx);
      const grants = requestedGrants(req.scope, principal.subject.grants);
      ctx.audit.resource = [...new Set(grants.map((g) => g.resource))].join(" ");
      const issued = await signer.issue({
        clientId: principal.clientId, applicationId: principal.applicationId, authorizationId: principal.authorizationId,
        grants, ...networkRules(principal.subject), now: ctx.now, notAfter: principal.subject.expiresAt,
      });
      ctx.audit.target = ctx.audit.target ? `${ctx.audit.target}, token ${issued.jti}` : `token ${issued.jti}`;
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
    mutates: true,
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
      if (claims.client_id !== caller.clientId && !mayAdminister(caller, ctx, "write")) {
        throw new PermissionDeniedError("token: was not issued to this client (RFC 7009 §2.1 unauthorized_client)");
      }
      await revocations.revoke(ctx.db, claims.jti, new Date(claims.exp * 1000), caller.clientId, ctx.now);
      return {};
    },
  };

  /**
   * A resource server's guard asks about a call it received. The answer is a decision; the
   * audit record is about the client the decision concerns (its ids, its address, the
   * decision's status), naming the resource server in `target`.
   */
  const authorize: MethodSpec<AuthorizeRequest, AuthorizeResponse> = {
    rule: "client",
    async handle(req, ctx) {
      if (!/^\/[A-Za-z_][\w.]{0,200}\/[A-Za-z_]\w{0,100}$/.test(req.method)) {
        throw new InvalidArgumentError("method", 'must be a gRPC method path like "/pam.v1.CredentialService/ListCredentials"');
      }
      const resource = v.resourceName("resource", req.resource);
      if (req.permission !== Permission.PERMISSION_READ && req.permission !== Permission.PERMISSION_READ_WRITE) {
        throw new InvalidArgumentError("permission", "is required: PERMISSION_READ or PERMISSION_READ_WRITE");
      }
      if (!req.authority || req.authority.length > 255) throw new InvalidArgumentError("authority", "is required, at most 255 characters");
      if (req.authorization.length > 8192) throw new InvalidArgumentError("authorization", "must be at most 8192 characters");
      if (req.bodySha1.length !== 20) throw new InvalidArgumentError("body_sha1", "must be the 20-byte SHA-1 of the request message");
      if (req.bodySha256.length !== 32) throw new InvalidArgumentError("body_sha256", "must be the 32-byte SHA-256 of the request message");
      const peerIp = req.peerIp ? normalizeIp(req.peerIp)?.text : undefined;
      if (req.peerIp && (!peerIp || req.peerIp.includes("/"))) throw new InvalidArgumentError("peer_ip", `"${v.preview(req.peerIp)}" is not an IP address`);
      if (req.referer.length > 2048) throw new InvalidArgumentError("referer", "must be at most 2048 characters");
      const guard = ctx.principal!;
      const mayAsk = guard.subject.grants.some((g) => g.resource === resource) || mayAdminister(guard, ctx, "read");
      if (!mayAsk) throw new PermissionDeniedError(`resource: this caller's authorization has no grant on "${resource}"; only its resource servers may ask`);

      // From here on the record is about the guarded client, not about the guard.
      Object.assign(ctx.audit, { clientId: undefined, applicationId: undefined, applicationName: undefined, authorizationId: undefined });
      ctx.audit.resource = resource;
      ctx.audit.peerIp = peerIp;
      ctx.audit.target = `authorize ${req.method} for resource server ${guard.clientId}`;
      const net = { ip: peerIp, referer: req.referer || undefined, now: ctx.now };
      const access = req.permission === Permission.PERMISSION_READ_WRITE ? "write" : "read";
      let subject: Principal | undefined;
      try {
        const bearer = req.authorization.match(/^Bearer\s+(\S+)\s*$/i);
        if (bearer) {
          subject = await authenticateBearer(deps, bearer[1], ctx.now);
        } else if (/^OAuth\s/i.test(req.authorization)) {
          subject = await verifyOAuth1(
            deps,
            { header: req.authorization, path: req.method, authority: req.authority, bodySha1: Buffer.from(req.bodySha1), bodySha256: Buffer.from(req.bodySha256), now: ctx.now },
            (key) => (ctx.audit.clientId = presentedClientId(key)),
          );
        } else {
          throw new UnauthenticatedError(UnauthenticatedError.MISSING, "no Bearer token or OAuth 1.0 signature");
        }
        Object.assign(ctx.audit, { clientId: subject.clientId, applicationId: subject.applicationId, applicationName: subject.applicationName, authorizationId: subject.authorizationId });
        enforce(subject, net, resource, access);
      } catch (e) {
        if (!(e instanceof A2AError) || !DECISIONS.includes(e.code)) throw e;
        if (e instanceof UnauthenticatedError) ctx.audit.reason = e.reason;
        ctx.audit.outcome = { code: e.code, message: e.message };
        return { ...decision(subject, resource), allowed: false, code: e.code, message: e.message };
      }
      return { ...decision(subject, resource), allowed: true, code: Code.OK, message: "" };
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

  return { issueToken, introspectToken, revokeToken, authorize, getJwks };
}
