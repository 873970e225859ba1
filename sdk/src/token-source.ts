import type { ChannelCredentials } from "@grpc/grpc-js";
import { TokenServiceDefinition, type IssueTokenRequest } from "./gen/a2a/v1/token_service";
import { createClient, type PromiseClient } from "./client";

/** Where an interceptor gets its access token. */
export interface TokenSource {
  /** A token that is valid now, from cache when it is not about to expire. */
  getToken(): Promise<string>;
  /** Drops `token` from the cache (after the server refused it), so the next get fetches anew. */
  invalidate(token: string): void;
}

export interface ClientCredentialsOptions extends TokenRequestOptions {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** What every A2A token source is configured with. */
export interface TokenRequestOptions {
  /** A2A's address, host:port. */
  readonly address: string;
  /** Optional, e.g. "pam-core:write"; default: every grant. */
  readonly scope?: string;
  readonly credentials?: ChannelCredentials;
  /** Metadata sent with the token request too (e.g. the referer your authorization requires). */
  readonly metadata?: Record<string, string>;
  /** Refresh this long before expiry; default min(60 s, 10% of the lifetime). */
  readonly refreshBeforeSeconds?: number;
  /** Deadline of the token request; default 10 s. */
  readonly timeoutMs?: number;
}

/**
 * A token source over A2A's TokenService.IssueToken. Caches the token, refreshes it before it
 * expires, and lets only one refresh run at a time: concurrent callers wait for the same
 * request. Subclasses say how to ask (which grant).
 */
export abstract class A2ATokenSource implements TokenSource {
  private cached?: { token: string; refreshAt: number };
  private inflight?: Promise<string>;
  protected readonly client: PromiseClient<typeof TokenServiceDefinition>;
  /** How many token requests were made (for tests and metrics). */
  fetches = 0;

  constructor(protected readonly options: TokenRequestOptions) {
    this.client = createClient(TokenServiceDefinition, options.address, { credentials: options.credentials, metadata: options.metadata });
  }

  /** The token request of this grant. */
  protected abstract request(): Promise<IssueTokenRequest>;

  getToken(): Promise<string> {
    if (this.cached && Date.now() < this.cached.refreshAt) return Promise.resolve(this.cached.token);
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async fetch(): Promise<string> {
    this.fetches++;
    const started = Date.now();
    const response = await this.client.issueToken(await this.request(), { deadline: this.options.timeoutMs ?? 10_000 });
    const lifetime = response.expiresIn * 1000;
    const early = this.options.refreshBeforeSeconds !== undefined ? this.options.refreshBeforeSeconds * 1000 : Math.min(60_000, lifetime * 0.1);
    this.cached = { token: response.accessToken, refreshAt: started + lifetime - early };
    return response.accessToken;
  }

  close(): void {
    this.client.close();
  }
}

/** OAuth 2.0 client credentials (RFC 6749 §4.4). */
export class ClientCredentialsTokenSource extends A2ATokenSource {
  constructor(protected override readonly options: ClientCredentialsOptions) {
    super(options);
  }

  protected async request(): Promise<IssueTokenRequest> {
    return {
      grantType: "client_credentials", clientId: this.options.clientId, clientSecret: this.options.clientSecret,
      scope: this.options.scope ?? "", awsRequest: undefined,
    };
  }
}

/** A fixed token (tests, scripts); it cannot refresh. */
export function staticToken(token: string): TokenSource {
  return { getToken: async () => token, invalidate: () => undefined };
}

