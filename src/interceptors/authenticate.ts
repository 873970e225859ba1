import { createHash } from "node:crypto";
import type { Knex } from "knex";
import type { Access } from "../../sdk/src/policy";
import { authenticateBearer } from "../auth/bearer";
import { verifyClientSecret } from "../auth/client-credentials";
import { verifyOAuth1, type OAuth1Settings, type SignedCall } from "../auth/oauth1";
import { enforce, type Principal } from "../auth/principal";
import { UnauthenticatedError } from "../domain/errors";
import type { KeyRing } from "../domain/secrets";
import type { TokenSigner } from "../domain/tokens";
import { metadataValue, presentedClientId, type CallContext } from "./call-context";

/**
 * Who may call a method:
 * - "public": nobody needs to authenticate (GetJwks, IssueToken, which authenticates itself);
 * - "client": any valid credentials (introspection and revocation of one's own tokens);
 * - { resource, access }: credentials whose authorization grants that access on the resource.
 */
export type AuthRule = "public" | "client" | { readonly resource: "a2a"; readonly access: Access };

export interface AuthDeps {
  readonly db: Knex;
  readonly ring: KeyRing;
  readonly signer: TokenSigner;
  readonly config: OAuth1Settings;
}

/** The OAuth 1.0 view of a call A2A received itself. */
export function signedCallOf(ctx: CallContext, header: string): SignedCall {
  // The pipeline captures every request's bytes; a call without them is a wiring bug.
  if (!ctx.body) throw new Error(`request bytes were not captured for ${ctx.method}`);
  return {
    header, path: ctx.method, authority: ctx.authority, now: ctx.now,
    bodySha1: createHash("sha1").update(ctx.body).digest(), bodySha256: createHash("sha256").update(ctx.body).digest(),
  };
}

/** Reads `authorization: Basic …` (RFC 7617; id and secret form-encoded per RFC 6749 §2.3.1). */
export function parseBasic(header: string): { clientId: string; clientSecret: string } | undefined {
  const m = header.match(/^Basic\s+([A-Za-z0-9+/=]+)\s*$/i);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  const dec = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, " "));
    } catch {
      return s;
    }
  };
  return { clientId: dec(decoded.slice(0, colon)), clientSecret: dec(decoded.slice(colon + 1)) };
}

/**
 * Authenticates the caller from the `authorization` metadata (Bearer token, Basic client
 * credentials or an OAuth 1.0 signature) and applies the method's rule. Adds `ctx.principal` and the caller's ids to
 * `ctx.audit`. Must run first in a call; needs nothing before it but the call context.
 */
export async function authenticate(deps: AuthDeps, ctx: CallContext, rule: AuthRule): Promise<Principal | undefined> {
  if (rule === "public") return undefined;
  const header = metadataValue(ctx.metadata, "authorization");
  if (!header) throw new UnauthenticatedError(UnauthenticatedError.MISSING, "no authorization metadata");
  const bearer = header.match(/^Bearer\s+(\S+)\s*$/i);
  const basic = bearer ? undefined : parseBasic(header);
  let principal: Principal;
  if (bearer) {
    principal = await authenticateBearer(deps, bearer[1], ctx.now);
  } else if (basic) {
    ctx.audit.clientId = presentedClientId(basic.clientId);
    principal = await verifyClientSecret(deps, basic.clientId, basic.clientSecret);
  } else if (/^OAuth\s/i.test(header)) {
    principal = await verifyOAuth1(deps, signedCallOf(ctx, header), (key) => (ctx.audit.clientId = presentedClientId(key)));
  } else {
    throw new UnauthenticatedError(UnauthenticatedError.MISSING, "authorization metadata is neither Bearer, Basic nor OAuth");
  }
  // Who it is goes on record before the policy decides, so refusals are attributed too.
  noteCaller(ctx, principal);
  if (rule === "client") {
    enforce(principal, ctx);
  } else {
    ctx.audit.resource = rule.resource;
    enforce(principal, ctx, rule.resource, rule.access);
  }
  return principal;
}

export function noteCaller(ctx: CallContext, principal: Principal): void {
  ctx.principal = principal;
  ctx.audit.clientId = principal.clientId;
  ctx.audit.applicationId = principal.applicationId;
  ctx.audit.applicationName = principal.applicationName;
  ctx.audit.authorizationId = principal.authorizationId;
}
