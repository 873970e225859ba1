import { ipAllowed, type IpRule } from "./ip";
import { refererAllowed, type RefererRule } from "./referer";

/** What a call needs on a resource. */
export type Access = "read" | "write";
/** What a grant gives on a resource; "read_write" implies "read". */
export type GrantLevel = "read" | "read_write";

export interface ResourceGrant {
  readonly resource: string;
  readonly level: GrantLevel;
}

/** An authorization as the policy sees it: state, grants and network rules. */
export interface AccessSubject {
  readonly applicationEnabled: boolean;
  readonly authorizationEnabled: boolean;
  /** Access is refused from this instant on; undefined = no expiry. */
  readonly expiresAt?: Date;
  readonly grants: readonly ResourceGrant[];
  readonly allowedIps: readonly IpRule[];
  /** Empty: no referer rule. */
  readonly allowedReferers: readonly RefererRule[];
}

export interface AccessRequest {
  readonly now: Date;
  /** Client address after trusted-proxy resolution. */
  readonly ip?: string;
  readonly referer?: string;
  /** When absent, only the authorization itself (state, expiry, network) is checked. */
  readonly resource?: string;
  readonly access?: Access;
}

/**
 * Why access was refused. `credentials` failures (disabled, expired) are answered like any
 * other credential failure, so they carry no detail for the caller; `permission` failures
 * happen after the caller proved who it is, and say which rule refused it.
 */
export type Denial =
  | { readonly kind: "credentials"; readonly reason: "application_disabled" | "authorization_disabled" | "expired" }
  | { readonly kind: "permission"; readonly reason: "ip" | "referer" | "not_granted"; readonly message: string };

/** Does a grant level satisfy an access? READ_WRITE implies READ. */
export function levelAllows(level: GrantLevel, access: Access): boolean {
  return access === "read" || level === "read_write";
}

/**
 * The access policy, applied identically when a token is issued, when A2A's own services
 * are called and by the resource-server guard. Pure: the caller supplies `now`.
 */
export function checkAccess(subject: AccessSubject, request: AccessRequest): Denial | undefined {
  if (!subject.applicationEnabled) return { kind: "credentials", reason: "application_disabled" };
  if (!subject.authorizationEnabled) return { kind: "credentials", reason: "authorization_disabled" };
  if (subject.expiresAt && request.now.getTime() >= subject.expiresAt.getTime()) {
    return { kind: "credentials", reason: "expired" };
  }
  if (!ipAllowed(subject.allowedIps, request.ip)) {
    return { kind: "permission", reason: "ip", message: `source address ${request.ip ?? "(unknown)"} is not in this authorization's allowed_ips` };
  }
  if (!refererAllowed(subject.allowedReferers, request.referer)) {
    return {
      kind: "permission",
      reason: "referer",
      message: request.referer ? `referer "${request.referer}" is not in this authorization's allowed_referers` : "a referer is required by this authorization's allowed_referers",
    };
  }
  if (request.resource !== undefined) {
    const access = request.access ?? "read";
    const grant = subject.grants.find((g) => g.resource === request.resource);
    if (!grant || !levelAllows(grant.level, access)) {
      return {
        kind: "permission",
        reason: "not_granted",
        message: `this authorization does not grant ${access === "write" ? "read-write" : "read"} access to resource "${request.resource}"`,
      };
    }
  }
  return undefined;
}
