/**
 * @a2a/sdk: typed clients for A2A's gRPC services that authenticate with OAuth 2.0 (tokens
 * attached and refreshed), OAuth 1.0 (every call signed) or AWS IAM (tokens through the AWS
 * grant), and the guard that resource servers use to enforce A2A's decisions. This file is the
 * package's only public surface.
 */
import type { ChannelCredentials, Interceptor } from "@grpc/grpc-js";
import { AwsIamTokenSource, type AwsIamOptions } from "./aws";
import { createClient, type PromiseClient } from "./client";
import { AdminServiceDefinition } from "./gen/a2a/v1/admin_service";
import { AuditServiceDefinition } from "./gen/a2a/v1/audit_service";
import { TokenServiceDefinition } from "./gen/a2a/v1/token_service";
import { bearerAuth, oauth1Auth } from "./interceptors";
import type { OAuth1Keys, SignatureMethod } from "./oauth1";
import { ClientCredentialsTokenSource, type A2ATokenSource } from "./token-source";

export { AwsIamTokenSource, signGetCallerIdentity, AWS_SERVER_ID_HEADER, type AwsIamOptions } from "./aws";
export { oauth1Auth, type OAuth1AuthOptions } from "./interceptors";
export * as oauth1 from "./oauth1";
export type { OAuth1Keys, SignatureMethod } from "./oauth1";
export { rawRequest, withRawRequests } from "./raw-request";
export { createClient, type ClientOptions, type DeepPartial, type PromiseClient, type RpcOptions, type ServiceDefinition } from "./client";
export { bearerAuth } from "./interceptors";
export { A2ATokenSource, ClientCredentialsTokenSource, staticToken, type ClientCredentialsOptions, type TokenRequestOptions, type TokenSource } from "./token-source";
export { createGuard, Guard, GuardError, guardPrincipal, type GuardedCall, type GuardOptions, type GuardPrincipal } from "./guard";
export { JwksCache } from "./jwks";
export * as policy from "./policy";

export {
  AdminServiceDefinition, AdminServiceService,
  type CreateApplicationRequest, type CreateApplicationResponse, type CreateAuthorizationRequest, type CreateAuthorizationResponse,
  type UpdateApplicationRequest, type UpdateAuthorizationRequest, type ListApplicationsResponse, type ListAuthorizationsResponse,
} from "./gen/a2a/v1/admin_service";
export {
  AuditOrder, AuditServiceDefinition, AuditServiceService, ChainProblem, ExportFormat,
  type AuditEvent, type AuditFilter, type ListAuditEventsRequest, type ListAuditEventsResponse, type VerifyAuditChainResponse,
} from "./gen/a2a/v1/audit_service";
export {
  TokenServiceDefinition, TokenServiceService,
  type AuthorizeRequest, type AuthorizeResponse, type AwsSignedRequest, type IntrospectTokenResponse, type IssueTokenRequest,
  type IssueTokenResponse, type Jwk,
} from "./gen/a2a/v1/token_service";
export { AuthMethod, Permission, type Application, type Authorization, type Credentials, type Grant, type Resource } from "./gen/a2a/v1/types";
export { HealthDefinition, HealthCheckResponse_ServingStatus } from "./gen/grpc/health/v1/health";

/** How a client proves who it is, one of the three methods an A2A application can use. */
export type ClientAuth =
  | { readonly clientId: string; readonly clientSecret: string; readonly scope?: string }
  | { readonly oauth1: OAuth1Keys; readonly signatureMethod?: SignatureMethod }
  | { readonly aws: Omit<AwsIamOptions, "address" | "credentials" | "metadata"> };

/**
 * The authority grpc-js sends for an address ("dns:///a2a.example.com:443" -> "a2a.example.com:443"),
 * which OAuth 1.0 signatures cover.
 */
export function authorityOf(address: string): string {
  return address.replace(/^(dns|ipv4|ipv6):(\/\/[^/]*\/)?/, "");
}

/**
 * The interceptor that authenticates calls to `address` (A2A itself or a resource server) and,
 * for the token methods, the token source behind it (close it with the clients).
 */
export function clientAuth(
  auth: ClientAuth,
  a2a: { address: string; target?: string; credentials?: ChannelCredentials; metadata?: Record<string, string> },
): { interceptor: Interceptor; tokens?: A2ATokenSource } {
  if ("oauth1" in auth) {
    return { interceptor: oauth1Auth(auth.oauth1, { authority: authorityOf(a2a.target ?? a2a.address), signatureMethod: auth.signatureMethod }) };
  }
  const tokens = "aws" in auth
    ? new AwsIamTokenSource({ ...auth.aws, address: a2a.address, credentials: a2a.credentials, metadata: a2a.metadata })
    : new ClientCredentialsTokenSource({ ...auth, address: a2a.address, credentials: a2a.credentials, metadata: a2a.metadata });
  return { interceptor: bearerAuth(tokens), tokens };
}

export interface A2AConnection {
  readonly admin: PromiseClient<typeof AdminServiceDefinition>;
  readonly token: PromiseClient<typeof TokenServiceDefinition>;
  readonly audit: PromiseClient<typeof AuditServiceDefinition>;
  /** The token source (OAuth 2.0 and AWS); none for OAuth 1.0, which signs every call. */
  readonly tokens?: A2ATokenSource;
  close(): void;
}

/**
 * Clients for A2A's own services, authenticated as an authorization (an administrator's, to
 * use AdminService) by any of the three methods. Tokens are fetched, cached and refreshed for
 * you; OAuth 1.0 calls are each signed.
 */
export function connectA2A(options: { address: string; credentials?: ChannelCredentials; metadata?: Record<string, string> } & ClientAuth): A2AConnection {
  const { interceptor, tokens } = clientAuth(options, options);
  const clientOptions = { credentials: options.credentials, metadata: options.metadata, interceptors: [interceptor] };
  const admin = createClient(AdminServiceDefinition, options.address, clientOptions);
  const token = createClient(TokenServiceDefinition, options.address, clientOptions);
  const audit = createClient(AuditServiceDefinition, options.address, clientOptions);
  return {
    admin, token, audit, tokens,
    close() {
      admin.close();
      token.close();
      audit.close();
      tokens?.close();
    },
  };
}
