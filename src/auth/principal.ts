import { checkAccess, narrowGrants, parseIpRule, parseRefererRule, type Access, type AccessSubject } from "../../sdk/src/policy";
import { PermissionDeniedError, UnauthenticatedError } from "../domain/errors";
import type { VerifiedToken } from "../domain/tokens";
import type { AuthMethodName, CredentialRecord } from "../store/records";

/** Where a call comes from, as the policy needs it. */
export interface NetContext {
  readonly ip?: string;
  readonly referer?: string;
  readonly now: Date;
}

/** Who is calling: an authorization of an application, proven by one auth method. */
export interface Principal {
  readonly clientId: string;
  readonly applicationId: string;
  readonly applicationName: string;
  readonly authorizationId: string;
  /** The application's method (a Bearer token may come from OAuth 2.0 or the AWS grant). */
  readonly authMethod: AuthMethodName;
  readonly subject: AccessSubject;
  /** How it proved it: an access token (from OAuth 2.0 or the AWS grant), Basic, an OAuth 1.0 signature, AWS IAM. */
  readonly via: "bearer" | "basic" | "oauth1" | "aws";
}

/** The policy's view of a stored authorization (rules were validated when written). */
export function subjectOf(record: CredentialRecord): AccessSubject {
  return {
    applicationEnabled: record.application.enabled,
    authorizationEnabled: record.authorization.enabled,
    expiresAt: record.authorization.expiresAt,
    grants: record.authorization.grants,
    allowedIps: record.authorization.allowedIps.map(parseIpRule),
    allowedReferers: record.authorization.allowedReferers.map(parseRefererRule),
  };
}

/** The caller behind a credential record; a token's scope narrows what the authorization grants. */
export function principalOf(record: CredentialRecord, via: Principal["via"], token?: VerifiedToken): Principal {
  const subject = subjectOf(record);
  return {
    clientId: record.authorization.clientId,
    applicationId: record.application.id,
    applicationName: record.application.name,
    authorizationId: record.authorization.id,
    authMethod: record.application.authMethod,
    subject: token ? { ...subject, grants: narrowGrants(subject.grants, token.claims.scope) } : subject,
    via,
  };
}

/** The network rules as text, as tokens and introspection carry them. */
export function networkRules(subject: AccessSubject): { allowedIps: string[]; allowedReferers: string[] } {
  return {
    allowedIps: subject.allowedIps.map((r) => (r === "*" ? "*" : r.text)),
    allowedReferers: subject.allowedReferers.map((r) => r.text),
  };
}

/** Whether the principal may, from where it calls now, read or change A2A itself (resource "a2a"). */
export function mayAdminister(principal: Principal, net: NetContext, access: Access): boolean {
  return checkAccess(principal.subject, { now: net.now, ip: net.ip, referer: net.referer, resource: "a2a", access }) === undefined;
}

/**
 * Applies the access policy to a principal; throws the matching error. A credential-kind
 * denial (disabled, expired) answers exactly like a wrong secret or a bad token.
 */
export function enforce(principal: Principal, net: NetContext, resource?: string, access?: Access): void {
  const denial = checkAccess(principal.subject, { now: net.now, ip: net.ip, referer: net.referer, resource, access });
  if (!denial) return;
  if (denial.kind === "credentials") {
    throw principal.via === "bearer" ? UnauthenticatedError.token(denial.reason) : UnauthenticatedError.client(denial.reason);
  }
  throw new PermissionDeniedError(denial.message);
}
