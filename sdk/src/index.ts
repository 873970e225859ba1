/**
 * @a2a/sdk: typed clients for A2A's gRPC services that attach and refresh OAuth 2.0 tokens,
 * and the guard that resource servers use to enforce A2A tokens. This file is the package's
 * only public surface.
 */
import type { ChannelCredentials } from "@grpc/grpc-js";
import { createClient, type PromiseClient } from "./client";
import { AdminServiceDefinition } from "./gen/a2a/v1/admin_service";
import { AuditServiceDefinition } from "./gen/a2a/v1/audit_service";
import { TokenServiceDefinition } from "./gen/a2a/v1/token_service";
import { bearerAuth } from "./interceptors";
import { ClientCredentialsTokenSource } from "./token-source";

export { createClient, type ClientOptions, type DeepPartial, type PromiseClient, type RpcOptions, type ServiceDefinition } from "./client";
export { bearerAuth } from "./interceptors";
export { ClientCredentialsTokenSource, staticToken, type ClientCredentialsOptions, type TokenSource } from "./token-source";
export { createGuard, Guard, GuardError, guardPrincipal, type GuardOptions, type GuardPrincipal } from "./guard";
export { JwksCache } from "./jwks";
export * as policy from "./policy";

export {
  AdminServiceDefinition, AdminServiceService,
  type CreateApplicationRequest, type CreateApplicationResponse, type CreateAuthorizationRequest, type CreateAuthorizationResponse,
  type UpdateApplicationRequest, type UpdateAuthorizationRequest, type ListApplicationsResponse, type ListAuthorizationsResponse,
} from "./gen/a2a/v1/admin_service";
export { AuditServiceDefinition, AuditServiceService, type AuditEvent, type ListAuditEventsRequest, type ListAuditEventsResponse } from "./gen/a2a/v1/audit_service";
export {
  TokenServiceDefinition, TokenServiceService,
  type IntrospectTokenResponse, type IssueTokenRequest, type IssueTokenResponse, type Jwk,
} from "./gen/a2a/v1/token_service";
export { AuthMethod, Permission, type Application, type Authorization, type Credentials, type Grant, type Resource } from "./gen/a2a/v1/types";
export { HealthDefinition, HealthCheckResponse_ServingStatus } from "./gen/grpc/health/v1/health";

export interface A2AConnection {
  readonly admin: PromiseClient<typeof AdminServiceDefinition>;
  readonly token: PromiseClient<typeof TokenServiceDefinition>;
  readonly audit: PromiseClient<typeof AuditServiceDefinition>;
  readonly tokens: ClientCredentialsTokenSource;
  close(): void;
}

/**
 * Clients for A2A's own services, authenticated with an authorization's client credentials
 * (an administrator's, to use AdminService). Tokens are fetched, cached and refreshed for you.
 */
export function connectA2A(options: {
  address: string;
  clientId: string;
  clientSecret: string;
  credentials?: ChannelCredentials;
  metadata?: Record<string, string>;
}): A2AConnection {
  const tokens = new ClientCredentialsTokenSource(options);
  const clientOptions = { credentials: options.credentials, metadata: options.metadata, interceptors: [bearerAuth(tokens)] };
  const admin = createClient(AdminServiceDefinition, options.address, clientOptions);
  const token = createClient(TokenServiceDefinition, options.address, clientOptions);
  const audit = createClient(AuditServiceDefinition, options.address, clientOptions);
  return {
    admin, token, audit, tokens,
    close() {
      admin.close();
      token.close();
      audit.close();
      tokens.close();
    },
  };
}
