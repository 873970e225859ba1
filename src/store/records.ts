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

/** The keys of an authorization as stored: hashes and sealed (encrypted) secrets only. */
export interface StoredKeys {
  /** HMAC of the client / consumer secret; none for AWS authorizations. */
  readonly secretHash?: string;
  /** The client / consumer secret, AES-256-GCM sealed under context `client-secret:<client id>`. */
  readonly secretSealed?: string;
  /** OAuth 1.0: the token, and its secret sealed under `oauth1-token-secret:<client id>`. */
  readonly oauth1Token?: string;
  readonly oauth1TokenSecretSealed?: string;
}

/** What authentication needs in one read: the authorization, its application, its keys. */
export interface CredentialRecord {
  readonly authorization: AuthorizationRecord;
  readonly application: ApplicationRecord;
  readonly keys: StoredKeys;
}

/** jsonb comes back parsed from pg and PGlite alike; written as JSON text. */
export function json(value: unknown): string {
  return JSON.stringify(value);
}
