import type { ResourceGrant } from "../../sdk/src/policy";

export type AuthMethodName = "oauth2" | "oauth1" | "aws";

export interface ApplicationRecord {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly authMethod: AuthMethodName;
  readonly enabled: boolean;
  readonly tags: string[];
  readonly awsArns: string[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly createdBy: string;
  readonly updatedBy: string;
}

export interface AuthorizationRecord {
  readonly id: string;
  readonly applicationId: string;
  readonly clientId: string;
  readonly description: string;
  readonly system: string;
  readonly environment: string;
  readonly enabled: boolean;
  readonly expiresAt?: Date;
  readonly grants: ResourceGrant[];
  readonly allowedIps: string[];
  readonly allowedReferers: string[];
  readonly lastUsedAt?: Date;
  readonly lastUsedIp?: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly createdBy: string;
  readonly updatedBy: string;
}

export interface ResourceRecord {
  readonly name: string;
  readonly description: string;
  readonly builtin: boolean;
  readonly createdAt: Date;
}

/** What authentication needs in one read: the authorization, its application, the secret hash. */
export interface CredentialRecord {
  readonly authorization: AuthorizationRecord;
  readonly application: ApplicationRecord;
  readonly secretHash: string;
}

/** jsonb comes back parsed from pg and PGlite alike; written as JSON text. */
export function json(value: unknown): string {
  return JSON.stringify(value);
}
