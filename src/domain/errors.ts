/**
 * Typed errors. Each maps to exactly one gRPC status (the numbers are gRPC's), so domain code
 * stays free of grpc-js types and the transport maps them in one place.
 */
export const Code = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

export abstract class A2AError extends Error {
  abstract readonly code: Code;
}

/** The request breaks a rule; the message names the field and the rule. */
export class InvalidArgumentError extends A2AError {
  readonly code = Code.INVALID_ARGUMENT;
  constructor(readonly field: string, rule: string) {
    super(`${field}: ${rule}`);
  }
}

export class NotFoundError extends A2AError {
  readonly code = Code.NOT_FOUND;
  constructor(what: string, id: string) {
    super(`${what} "${id}" not found`);
  }
}

export class AlreadyExistsError extends A2AError {
  readonly code = Code.ALREADY_EXISTS;
}

export class FailedPreconditionError extends A2AError {
  readonly code = Code.FAILED_PRECONDITION;
}

/** The caller proved who it is but may not do this; the message says which rule refused it. */
export class PermissionDeniedError extends A2AError {
  readonly code = Code.PERMISSION_DENIED;
}

export class UnimplementedError extends A2AError {
  readonly code = Code.UNIMPLEMENTED;
}

export class UnavailableError extends A2AError {
  readonly code = Code.UNAVAILABLE;
}

/**
 * Credential failures. The message is fixed per kind of credential, whatever part was wrong
 * (unknown client, wrong secret, disabled, expired, revoked, bad signature), so a caller
 * learns nothing from it; the reason is kept for logs and audit only.
 */
export class UnauthenticatedError extends A2AError {
  readonly code = Code.UNAUTHENTICATED;
  static readonly CLIENT = "invalid client credentials";
  static readonly TOKEN = "invalid access token";
  static readonly MISSING = 'missing credentials: send metadata "authorization: Bearer <access token>", "authorization: Basic <base64(client_id:client_secret)>" or an OAuth 1.0 signature "authorization: OAuth …"';
  constructor(message: string, readonly reason: string) {
    super(message);
  }
  static client(reason: string): UnauthenticatedError {
    return new UnauthenticatedError(UnauthenticatedError.CLIENT, reason);
  }
  static token(reason: string): UnauthenticatedError {
    return new UnauthenticatedError(UnauthenticatedError.TOKEN, reason);
  }
}
