import { Metadata, status, type handleUnaryCall, type sendUnaryData, type ServerUnaryCall } from "@grpc/grpc-js";
import type { IpRule } from "../../sdk/src/policy";
import { A2AError, Code, UnauthenticatedError, UnavailableError } from "../domain/errors";
import type { Logger } from "../logger";
import type { AuditRecord, AuditWriter } from "../store/audit";
import { authenticate, type AuthDeps, type AuthRule } from "./authenticate";
import { createCallContext, type CallContext } from "./call-context";

/** One RPC of a service: who may call it and what it does. */
export interface MethodSpec<Req, Res> {
  readonly rule: AuthRule;
  handle(request: Req, ctx: CallContext): Promise<Res>;
}

export interface PipelineDeps extends AuthDeps {
  readonly audit: AuditWriter;
  readonly logger: Logger;
  readonly nodeName: string;
  readonly trustedProxies: readonly IpRule[];
}

const STATUS_NAMES = Object.fromEntries(Object.entries(status).filter(([, v]) => typeof v === "number").map(([k, v]) => [v, k])) as Record<number, string>;

export function statusName(code: number): string {
  return STATUS_NAMES[code] ?? String(code);
}

/**
 * Maps an error to what the caller is told. Typed errors carry their status and a message
 * safe to show; anything else is a bug: INTERNAL with the request id, logged in full.
 */
function toStatus(error: unknown, ctx: CallContext, logger: Logger): { code: number; message: string } {
  if (error instanceof A2AError) return { code: error.code, message: error.message };
  if (isStoreUnavailable(error)) {
    logger.warn("store unavailable", { requestId: ctx.requestId, method: ctx.method, error });
    return { code: Code.UNAVAILABLE, message: `the store is unavailable; try again later (request id ${ctx.requestId})` };
  }
  logger.error("unexpected error", { requestId: ctx.requestId, method: ctx.method, error });
  return { code: Code.INTERNAL, message: `internal error; quote request id ${ctx.requestId} to the operator` };
}

/**
 * The database cannot be reached or is shutting down: a condition to retry, not a bug.
 * Socket errors, knex's pool timeout, and PostgreSQL classes 08 (connection) and 57 (operator
 * intervention, e.g. admin shutdown).
 */
function isStoreUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; name?: string };
  if (e?.name === "KnexTimeoutError") return true;
  if (typeof e?.code !== "string") return false;
  return /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH)$/.test(e.code) || /^(08|57P)/.test(e.code);
}

function auditRecord(ctx: CallContext, nodeName: string, callCode: number, callMessage: string | undefined, durationMs: number): AuditRecord {
  // A call that succeeded may report an outcome of its own (Authorize reports its decision).
  const outcome = callCode === Code.OK ? ctx.audit.outcome : undefined;
  const code = outcome?.code ?? callCode;
  const message = outcome?.message ?? callMessage;
  const error = message === undefined || code === Code.OK ? undefined : ctx.audit.reason ? `${message} (${ctx.audit.reason})` : message;
  return {
    time: ctx.now, requestId: ctx.requestId, node: nodeName, peerIp: ctx.audit.peerIp ?? ctx.ip, clientId: ctx.audit.clientId,
    applicationId: ctx.audit.applicationId, applicationName: ctx.audit.applicationName,
    authorizationId: ctx.audit.authorizationId, method: ctx.method, resource: ctx.audit.resource, statusCode: code,
    error, durationMs, userAgent: ctx.userAgent, referer: ctx.referer, target: ctx.audit.target,
  };
}

/**
 * Wraps a unary handler in the call pipeline, in this order:
 * context (request id, client IP, referer) -> authenticate (the method's rule) -> handler ->
 * map errors -> audit. The answer is sent only after its audit record is committed; when the
 * trail cannot be written the caller gets UNAVAILABLE instead.
 */
export function unary<Req, Res>(path: string, spec: MethodSpec<Req, Res>, deps: PipelineDeps): handleUnaryCall<Req, Res> {
  return async (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const ctx = createCallContext(call as ServerUnaryCall<unknown, unknown>, path, deps.trustedProxies);
    let response: Res | undefined;
    let failure: { code: number; message: string } | undefined;
    try {
      await authenticate(deps, ctx, spec.rule);
      response = await spec.handle(call.request, ctx);
    } catch (error) {
      if (error instanceof UnauthenticatedError) ctx.audit.reason = error.reason;
      failure = toStatus(error, ctx, deps.logger);
    }
    const code = failure?.code ?? Code.OK;
    const durationMs = Number(process.hrtime.bigint() - ctx.startedAt) / 1e6;
    try {
      await deps.audit.write(auditRecord(ctx, deps.nodeName, code, failure?.message, durationMs));
    } catch (error) {
      deps.logger.error("audit write failed; refusing the request", { requestId: ctx.requestId, method: path, error });
      failure = toStatus(new UnavailableError("the audit trail cannot be written; try again later"), ctx, deps.logger);
    }
    deps.logger.debug("rpc", {
      requestId: ctx.requestId, method: path, peer: ctx.ip, clientId: ctx.audit.clientId,
      code: statusName(failure?.code ?? Code.OK),
      ms: Math.round(durationMs * 100) / 100,
    });
    const trailer = new Metadata();
    trailer.set("x-request-id", ctx.requestId);
    if (failure) callback({ code: failure.code, details: failure.message, metadata: trailer }, null);
    else callback(null, response, trailer);
  };
}
