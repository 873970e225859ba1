import type { ChannelCredentials } from "@grpc/grpc-js";
import { createLocalJWKSet, type JWTVerifyGetKey } from "jose";
import { createClient, type PromiseClient } from "./client";
import { TokenServiceDefinition } from "./gen/a2a/v1/token_service";

/**
 * A2A's signing keys, fetched with TokenService.GetJwks and cached. A token signed with a key
 * not in the cache (A2A rotated, or another node created one) makes it fetch again, at most
 * once per `minRefetchMs`, so garbage `kid`s cannot turn into a flood of requests.
 */
export class JwksCache {
  private keySet?: JWTVerifyGetKey;
  private kids = new Set<string>();
  private lastFetch = 0;
  private inflight?: Promise<void>;
  private readonly client: PromiseClient<typeof TokenServiceDefinition>;

  constructor(address: string, credentials?: ChannelCredentials, private readonly minRefetchMs = 1000) {
    this.client = createClient(TokenServiceDefinition, address, { credentials });
  }

  private refresh(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        const { keys } = await this.client.getJwks({}, { deadline: 5000 });
        const jwks = keys.map((k) => ({ kty: k.kty, crv: k.crv, x: k.x, kid: k.kid, alg: k.alg, use: k.use }));
        this.keySet = createLocalJWKSet({ keys: jwks });
        this.kids = new Set(jwks.map((k) => k.kid));
        this.lastFetch = Date.now();
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  /** jose key resolver: from cache, refetching on an unknown kid. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const kid = header.kid ?? "";
    if (!this.keySet || (!this.kids.has(kid) && Date.now() - this.lastFetch >= this.minRefetchMs)) await this.refresh();
    return this.keySet!(header, token);
  };

  close(): void {
    this.client.close();
  }
}
