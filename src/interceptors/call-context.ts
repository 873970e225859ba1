import { randomUUID } from "node:crypto";
import type { Metadata, ServerUnaryCall, ServerWritableStream } from "@grpc/grpc-js";
import type { Knex } from "knex";
import { clientIp, ipFromPeer, type IpRule } from "../../sdk/src/policy";
import { rawRequest } from "../../sdk/src/raw-request";
import type { NetContext, Principal } from "../auth/principal";
import { CLIENT_ID_PATTERN } from "../domain/secrets";

/** Identifiers gathered during a call for its audit record; never secrets. */
export interface AuditNotes {
  clientId?: string;
  applicationId?: string;
  applicationName?: string;
  authorizationId?: string;
  resource?: string;
  /** What the request named, e.g. "application 4f…" (ids and names only). */
  target?: string;
  /** Why a credential check failed; for the trail, never for the caller. */
  reason?: string;
  /** The address the record is about, when not the caller's (Authorize: the guarded client's). */
  peerIp?: string;
  /** What the record reports when the call itself succeeded (Authorize: the decision). */
  outcome?: { readonly code: number; readonly message: string };
}

/** What every handler sees of its call: no grpc-js types beyond the metadata. */
export interface CallContext extends NetContext {
  readonly requestId: string;
  /** Full gRPC path, "/a2a.v1.AdminService/CreateApplication". */
  readonly method: string;
  /** The `:authority` the client dialled. */
  readonly authority: string;
  readonly metadata: Metadata;
  /** The request message's bytes as received (what an OAuth 1.0 body hash covers). */
  readonly body?: Buffer;
  /** The store for this call: the call's transaction when its method mutates. */
  readonly db: Knex;
  readonly userAgent?: string;
  readonly startedAt: bigint;
  principal?: Principal;
  readonly audit: AuditNotes;
}

/** The first value of a metadata key, as text. */
export function metadataValue(metadata: Metadata, key: string): string | undefined {
  const v = metadata.get(key)[0];
  return v === undefined ? undefined : String(v);
}

/**
 * Builds the call context. The client IP is the socket peer unless that peer is a trusted
 * proxy (then X-Forwarded-For is used); IPv4-mapped IPv6 is unmapped.
 */
export function createCallContext(
  call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>,
  method: string,
  trustedProxies: readonly IpRule[],
  db: Knex,
): CallContext {
  const peerIp = ipFromPeer(call.getPeer());
  return {
    requestId: randomUUID(),
    method,
    authority: call.getHost(),
    metadata: call.metadata,
    body: rawRequest(call.request),
    db,
    ip: clientIp(peerIp, metadataValue(call.metadata, "x-forwarded-for"), trustedProxies),
    referer: metadataValue(call.metadata, "referer"),
    userAgent: metadataValue(call.metadata, "user-agent"),
    now: new Date(),
    startedAt: process.hrtime.bigint(),
    audit: {},
  };
}


/**
 * The client id a caller presented, for the audit trail: only when it has the client-id
 * format, so that a secret pasted into the wrong field is never recorded.
 */
export function presentedClientId(value: string): string {
  return CLIENT_ID_PATTERN.test(value) ? value : "(invalid client_id)";
}
