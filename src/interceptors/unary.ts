import { Metadata, status, type handleServerStreamingCall, type handleUnaryCall, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from "@grpc/grpc-js";
import type { IpRule } from "../../sdk/src/policy";
import { redactRequest } from "../audit/redact";
import { A2AError, Code, UnauthenticatedError, UnavailableError } from "../domain/errors";
import type { Logger } from "../logger";
import type { AuditRecord, AuditWriter } from "../store/audit";
import { authenticate, type AuthDeps, type AuthRule } from "./authenticate";
import { createCallContext, type CallContext } from "./call-context";

/** One RPC of a service: who may call it and what it does. */
export interface MethodSpec<Req, Res> {
  readonly rule: AuthRule;
  /**
   * The call changes state: it runs in one transaction with its audit record (`ctx.db` is that
   * transaction), so a change is committed only with its record, and not at all when the
   * record cannot be written.
   */
  readonly mutates?: boolean;
  /** The request as the trail records it; default: the message, redacted. */
  summarize?(request: Req): Record<string, unknown>;
  handle(request: Req, ctx: CallContext): Promise<Res>;
}

/** A server-streaming RPC: audited (and committed) before the first message is sent. */
export interface StreamSpec<Req, Res> {
  readonly rule: AuthRule;
  /** Checks the request and prepares; errors here are the call's answer. */
  open(request: Req, ctx: CallContext): Promise<(send: (message: Res) => Promise<void>, cancelled: AbortSignal) => Promise<void>>;
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
 * Socket errors, knex's pool timeout, PostgreSQL classes 08 (connection), 53 (insufficient
 * resources: disk full, out of memory) and 57 (operator intervention, e.g. admin shutdown).
 */
function isStoreUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; name?: string; message?: string };
  if (e?.name === "KnexTimeoutError") return true;
  if (/Connection terminated|connection.*(closed|ended)|not queryable/i.test(String(e?.message ?? ""))) return true;
  if (typeof e?.code !== "string") return false;
  return /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH)$/.test(e.code) || /^(08|53|57P)/.test(e.code);
}

function auditRecord(ctx: CallContext, deps: PipelineDeps, callCode: number, callMessage: string | undefined, request: Record<string, unknown> | undefined): AuditRecord {
  // A call that succeeded may report an outcome of its own (Authorize reports its decision).
  const outcome = callCode === Code.OK ? ctx.audit.outcome : undefined;
  const code = outcome?.code ?? callCode;
  const message = outcome?.message ?? callMessage;
  const error = message === undefined || code === Code.OK ? undefined : ctx.audit.reason ? `${message} (${ctx.audit.reason})` : message;
  return {
    requestId: ctx.requestId, node: deps.nodeName, peerIp: ctx.audit.peerIp ?? ctx.ip, clientId: ctx.audit.clientId,
    applicationId: ctx.audit.applicationId, applicationName: ctx.audit.applicationName,
    authorizationId: ctx.audit.authorizationId, method: ctx.method, resource: ctx.audit.resource, statusCode: code,
    error, durationMs: Number(process.hrtime.bigint() - ctx.startedAt) / 1e6, userAgent: ctx.userAgent, referer: ctx.referer,
    target: ctx.audit.target, request,
  };
}

function summary<Req>(spec: { summarize?(r: Req): Record<string, unknown> }, request: Req, deps: PipelineDeps): Record<string, unknown> | undefined {
  try {
    return spec.summarize ? spec.summarize(request) : redactRequest(request, (v) => deps.ring.auditHash(v));
  } catch {
    return { unreadable: true };
  }
}

/**
 * Runs a call up to its committed audit record: context -> authenticate (the method's rule)
 * -> work -> map errors -> audit. A mutating call's work and record share one transaction.
 * Returns the failure to answer with, if any; the caller answers only after this resolves.
 */
async function runAudited<Req>(
  ctx: CallContext,
  request: Req,
  spec: { rule: AuthRule; mutates?: boolean; summarize?(r: Req): Record<string, unknown> },
  deps: PipelineDeps,
  work: (ctx: CallContext) => Promise<void>,
): Promise<{ code: number; message: string } | undefined> {
  const requestSummary = summary(spec, request, deps);
  let failure: { code: number; message: string } | undefined;
  let recorded = false;
  try {
    await authenticate(deps, ctx, spec.rule);
    if (spec.mutates) {
      // The partition is made sure of outside the transaction: on PGlite nothing else may use the pool inside it.
      await deps.audit.withPartition(() =>
        deps.db.transaction(async (trx) => {
          await work({ ...ctx, db: trx });
          await deps.audit.appendWithin(trx, auditRecord(ctx, deps, Code.OK, undefined, requestSummary));
        }),
      );
      recorded = true;
      deps.audit.notifyCommitted();
    } else {
      await work(ctx);
    }
  } catch (error) {
    if (error instanceof UnauthenticatedError) ctx.audit.reason = error.reason;
    failure = toStatus(error, ctx, deps.logger);
  }
  if (!recorded) {
    try {
      await deps.audit.write(auditRecord(ctx, deps, failure?.code ?? Code.OK, failure?.message, requestSummary));
    } catch (error) {
      deps.logger.error("audit write failed; refusing the request", { requestId: ctx.requestId, method: ctx.method, error });
      failure = toStatus(new UnavailableError("the audit trail cannot be written; try again later"), ctx, deps.logger);
    }
  }
  deps.logger.debug("rpc", {
    requestId: ctx.requestId, method: ctx.method, peer: ctx.ip, clientId: ctx.audit.clientId,
    code: statusName(failure?.code ?? Code.OK), ms: Math.round((Number(process.hrtime.bigint() - ctx.startedAt) / 1e6) * 100) / 100,
  });
  return failure;
}

function requestIdTrailer(ctx: CallContext): Metadata {
  const trailer = new Metadata();
  trailer.set("x-request-id", ctx.requestId);
  return trailer;
}

/**
 * Wraps a unary handler in the call pipeline. The answer is sent only after its audit record
 * is committed; when the trail cannot be written the caller gets UNAVAILABLE instead (and a
 * mutating call has changed nothing).
 */
export function unary<Req, Res>(path: string, spec: MethodSpec<Req, Res>, deps: PipelineDeps): handleUnaryCall<Req, Res> {
  return async (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const ctx = createCallContext(call as ServerUnaryCall<unknown, unknown>, path, deps.trustedProxies, deps.db);
    let response: Res | undefined;
    const failure = await runAudited(ctx, call.request, spec, deps, async (c) => {
      response = await spec.handle(call.request, c);
    });
    if (failure) callback({ code: failure.code, details: failure.message, metadata: requestIdTrailer(ctx) }, null);
    else callback(null, response, requestIdTrailer(ctx));
  };
}

/**
 * Wraps a server-streaming handler: the call is authenticated and its audit record committed
 * before any message is sent (no trail, no data). The stream stops when the caller cancels.
 */
export function serverStream<Req, Res>(path: string, spec: StreamSpec<Req, Res>, deps: PipelineDeps, closing: AbortSignal): handleServerStreamingCall<Req, Res> {
  return async (call: ServerWritableStream<Req, Res>) => {
    const ctx = createCallContext(call as ServerWritableStream<unknown, unknown>, path, deps.trustedProxies, deps.db);
    let run: Awaited<ReturnType<StreamSpec<Req, Res>["open"]>> | undefined;
    const failure = await runAudited(ctx, call.request, spec, deps, async (c) => {
      run = await spec.open(call.request, c);
    });
    if (failure) {
      call.emit("error", { code: failure.code, details: failure.message, metadata: requestIdTrailer(ctx) });
      return;
    }
    const stop = new AbortController();
    const abort = () => stop.abort();
    call.on("cancelled", abort);
    closing.addEventListener("abort", abort);
    // Backpressure: wait for "drain" after a full buffer, or for the end of the call (a caller
    // gone mid-stream never drains).
    const send = (message: Res) =>
      new Promise<void>((resolve) => {
        if (stop.signal.aborted || call.write(message)) return resolve();
        const done = () => {
          call.off("drain", done);
          stop.signal.removeEventListener("abort", done);
          resolve();
        };
        call.once("drain", done);
        stop.signal.addEventListener("abort", done, { once: true });
      });
    try {
      await run!(send, stop.signal);
      if (!call.cancelled) call.end(requestIdTrailer(ctx));
    } catch (error) {
      const st = toStatus(error, ctx, deps.logger);
      if (!call.cancelled) call.emit("error", { code: st.code, details: st.message, metadata: requestIdTrailer(ctx) });
    } finally {
      closing.removeEventListener("abort", abort);
    }
  };
}
