import type { ResourceGrant } from "../../sdk/src/policy";
import type { Application, Authorization, Grant, Resource } from "../../sdk/src/gen/a2a/v1/types";
import { AuthMethod, Permission } from "../../sdk/src/gen/a2a/v1/types";
import type { ApplicationRecord, AuthMethodName, AuthorizationRecord, ResourceRecord } from "../store/records";

export const AUTH_METHODS: Record<AuthMethodName, AuthMethod> = {
  oauth2: AuthMethod.AUTH_METHOD_OAUTH2,
  oauth1: AuthMethod.AUTH_METHOD_OAUTH1,
  aws: AuthMethod.AUTH_METHOD_AWS,
};

export function authMethodName(method: AuthMethod): AuthMethodName | undefined {
  return (Object.keys(AUTH_METHODS) as AuthMethodName[]).find((k) => AUTH_METHODS[k] === method);
}

export function grantToProto(g: ResourceGrant): Grant {
  return { resource: g.resource, permission: g.level === "read_write" ? Permission.PERMISSION_READ_WRITE : Permission.PERMISSION_READ };
}

export function applicationToProto(a: ApplicationRecord): Application {
  return {
    id: a.id, name: a.name, description: a.description, authMethod: AUTH_METHODS[a.authMethod], enabled: a.enabled,
    tags: a.tags, awsArns: a.awsArns, createTime: a.createdAt, updateTime: a.updatedAt, createdBy: a.createdBy, updatedBy: a.updatedBy,
  };
}

export function authorizationToProto(a: AuthorizationRecord): Authorization {
  return {
    id: a.id, applicationId: a.applicationId, clientId: a.clientId, description: a.description, system: a.system,
    environment: a.environment, enabled: a.enabled, expiresAt: a.expiresAt, grants: a.grants.map(grantToProto),
    allowedIps: a.allowedIps, allowedReferers: a.allowedReferers, lastUsedAt: a.lastUsedAt, lastUsedIp: a.lastUsedIp ?? "",
    createTime: a.createdAt, updateTime: a.updatedAt, createdBy: a.createdBy, updatedBy: a.updatedBy,
  };
}

export function resourceToProto(r: ResourceRecord): Resource {
  return { name: r.name, description: r.description, createTime: r.createdAt, builtin: r.builtin };
}
