import type { EventEmitter } from "node:events";
import {
  AuditOrder, ChainProblem, ExportFormat, type AuditEvent, type AuditFilter as FilterMessage, type ExportAuditEventsRequest,
  type ExportAuditEventsResponse, type HashValueRequest, type HashValueResponse, type ListAuditEventsRequest,
  type ListAuditEventsResponse, type TailAuditEventsRequest, type TailAuditEventsResponse, type VerifyAuditChainRequest,
  type VerifyAuditChainResponse, AuditServiceService,
} from "../../sdk/src/gen/a2a/v1/audit_service";
import { AdminServiceService } from "../../sdk/src/gen/a2a/v1/admin_service";
import { TokenServiceService } from "../../sdk/src/gen/a2a/v1/token_service";
import { parseIpRule } from "../../sdk/src/policy";
import { InvalidArgumentError } from "../domain/errors";
import * as v from "../domain/validation";
import type { MethodSpec, StreamSpec } from "../interceptors/unary";
import { statusName } from "../interceptors/unary";
import type { StoredAuditRecord } from "../store/audit";
import { chainState, listAuditEvents, verifyChain, type AuditFilter } from "../store/audit-queries";
import { pageSize } from "../store/paging";
import type { ServiceDeps } from "./deps";

const READ = { resource: "a2a", access: "read" } as const;

/** The audited methods' full paths by their last segment ("IssueToken" -> its path). */
const METHODS_BY_NAME = new Map<string, string[]>();
for (const service of [AdminServiceService, TokenServiceService, AuditServiceService]) {
  for (const { path } of Object.values(service)) {
    const name = path.slice(path.lastIndexOf("/") + 1);
    METHODS_BY_NAME.set(name, [...(METHODS_BY_NAME.get(name) ?? []), path]);
  }
}

/**
 * A method filter as the store takes it: a full path as given; a last segment as the paths of
 * the methods that have it (an indexed lookup), or, when no service has it (a method of an
 * older version), by suffix.
 */
function methodFilter(method: string | undefined): Pick<AuditFilter, "methods" | "methodName"> {
  if (!method) return {};
  if (method.startsWith("/")) return { methods: [method] };
  const paths = METHODS_BY_NAME.get(method);
  return paths ? { methods: paths } : { methodName: method };
}

export function auditEventToProto(r: StoredAuditRecord): AuditEvent {
  return {
    id: r.id, time: r.time, requestId: r.requestId, node: r.node, peerIp: r.peerIp ?? "", clientId: r.clientId ?? "",
    applicationId: r.applicationId ?? "", applicationName: r.applicationName ?? "", authorizationId: r.authorizationId ?? "",
    method: r.method, resource: r.resource ?? "", statusCode: r.statusCode, status: statusName(r.statusCode),
    error: r.error ?? "", durationMs: r.durationMs, userAgent: r.userAgent ?? "", referer: r.referer ?? "", target: r.target ?? "",
    request: r.request ? JSON.stringify(r.request) : "", prevHash: r.prevHash, hash: r.hash,
  };
}

/** The filter fields, wherever they come from (ListAuditEventsRequest has them inline). */
type FilterFields = Omit<FilterMessage, "statusCode"> & { statusCode?: number };

function parseFilter(req: FilterFields | undefined, prefix = ""): AuditFilter {
  if (!req) return {};
  const f = (name: string) => `${prefix}${name}`;
  v.timestamp(f("start_time"), req.startTime);
  v.timestamp(f("end_time"), req.endTime);
  if (req.clientId) v.label(f("client_id"), req.clientId, { max: 200 });
  if (req.startTime && req.endTime && req.startTime >= req.endTime) throw new InvalidArgumentError(f("end_time"), "must be after start_time");
  if (req.peerIp) {
    try {
      parseIpRule(req.peerIp);
    } catch (e) {
      throw new InvalidArgumentError(f("peer_ip"), (e as Error).message);
    }
    if (req.peerIp === "*") throw new InvalidArgumentError(f("peer_ip"), "give an address or CIDR block; leave it empty for any");
  }
  if (req.method && !/^[A-Za-z0-9_./]{1,200}$/.test(req.method)) {
    throw new InvalidArgumentError(f("method"), `"${v.preview(req.method)}" is not a method name like "IssueToken" or "/a2a.v1.TokenService/IssueToken"`);
  }
  if (req.statusCode !== undefined && (req.statusCode < 0 || req.statusCode > 16)) {
    throw new InvalidArgumentError(f("status_code"), `must be a gRPC status code 0 to 16, got ${req.statusCode}`);
  }
  if (req.resource) v.resourceName(f("resource"), req.resource);
  if (req.requestText && req.requestText.length > 500) throw new InvalidArgumentError(f("request_text"), "must be at most 500 characters");
  return {
    startTime: req.startTime, endTime: req.endTime,
    clientId: req.clientId || undefined,
    applicationId: req.applicationId ? v.requireId(f("application_id"), req.applicationId) : undefined,
    authorizationId: req.authorizationId ? v.requireId(f("authorization_id"), req.authorizationId) : undefined,
    peerIp: req.peerIp || undefined, ...methodFilter(req.method), statusCode: req.statusCode, failuresOnly: req.failuresOnly,
    resource: req.resource || undefined, requestText: req.requestText || undefined,
  };
}

function parseId(field: string, value: string): number | undefined {
  if (!value) return undefined;
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(field, "must be an event id (a positive whole number)");
  return Number(value);
}

const CSV_COLUMNS = [
  "id", "time", "node", "request_id", "peer_ip", "client_id", "application_id", "application_name", "authorization_id", "method",
  "resource", "status_code", "status", "error", "duration_ms", "user_agent", "referer", "target", "request", "prev_hash", "hash",
] as const;

function snake(e: AuditEvent): Record<(typeof CSV_COLUMNS)[number], string | number> {
  return {
    id: e.id, time: e.time!.toISOString(), node: e.node, request_id: e.requestId, peer_ip: e.peerIp, client_id: e.clientId,
    application_id: e.applicationId, application_name: e.applicationName, authorization_id: e.authorizationId, method: e.method,
    resource: e.resource, status_code: e.statusCode, status: e.status, error: e.error, duration_ms: e.durationMs,
    user_agent: e.userAgent, referer: e.referer, target: e.target, request: e.request, prev_hash: e.prevHash, hash: e.hash,
  };
}

/** RFC 4180 cell; a text cell a spreadsheet would run as a formula gets a leading '. */
function csvCell(value: string | number): string {
  if (typeof value === "number") return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function auditMethods(deps: ServiceDeps & { feed: EventEmitter }) {
  const { db, ring } = deps;

  const listAuditEventsSpec: MethodSpec<ListAuditEventsRequest, ListAuditEventsResponse> = {
    rule: READ,
    async handle(req) {
      const filter = parseFilter(req);
      const size = pageSize(req.pageSize, 100);
      const order = req.order === AuditOrder.AUDIT_ORDER_OLDEST_FIRST ? "oldest" : "newest";
      let cursor: string | undefined;
      if (req.pageToken) {
        const decoded = Buffer.from(req.pageToken, "base64url").toString("utf8");
        const m = decoded.match(/^([no]):(\d{1,18})$/);
        if (!m || m[1] !== order[0]) throw new InvalidArgumentError("page_token", "is not a next_page_token returned by this list (with this order)");
        cursor = m[2];
      }
      const page = await listAuditEvents(db, filter, size, order, cursor);
      return {
        events: page.items.map(auditEventToProto),
        nextPageToken: page.next ? Buffer.from(`${order[0]}:${page.next}`).toString("base64url") : "",
      };
    },
  };

  /**
   * Live events: this call's own cursor over the chain (ids are in commit order, so reading
   * "after the last id seen" misses nothing), read again whenever this node commits records
   * and every 500 ms for other nodes'. Each read is bounded by the head it saw, so a filter that
   * rarely matches does not read the same stretch again and again.
   */
  const tailAuditEvents: StreamSpec<TailAuditEventsRequest, TailAuditEventsResponse> = {
    rule: READ,
    async open(req) {
      const filter = parseFilter(req.filter, "filter.");
      let cursor = parseId("after_id", req.afterId) ?? Number((await chainState(db)).headId);
      return async (send, cancelled) => {
        let wake: () => void = () => undefined;
        let committed = false;
        const onCommit = () => {
          committed = true;
          wake();
        };
        deps.feed.on("committed", onCommit);
        try {
          while (!cancelled.aborted) {
            committed = false;
            // Up to the head seen now: every record up to it is committed, so once they are read
            // the cursor moves to the head even when none matched, and the next read starts there.
            const head = Number((await chainState(db)).headId);
            const page = await listAuditEvents(db, { ...filter, throughId: String(head) }, 500, "oldest", String(cursor));
            for (const e of page.items) {
              await send({ event: auditEventToProto(e) });
              cursor = Number(e.id);
            }
            if (page.next) continue;
            cursor = Math.max(cursor, head);
            if (committed) continue;
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, 500);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
              cancelled.addEventListener("abort", wake, { once: true });
            });
          }
        } finally {
          deps.feed.off("committed", onCommit);
        }
      };
    },
  };

  const exportAuditEvents: StreamSpec<ExportAuditEventsRequest, ExportAuditEventsResponse> = {
    rule: READ,
    async open(req) {
      const filter = parseFilter(req.filter, "filter.");
      if (req.format !== ExportFormat.EXPORT_FORMAT_CSV && req.format !== ExportFormat.EXPORT_FORMAT_NDJSON) {
        throw new InvalidArgumentError("format", "is required: EXPORT_FORMAT_NDJSON or EXPORT_FORMAT_CSV");
      }
      const csv = req.format === ExportFormat.EXPORT_FORMAT_CSV;
      return async (send, cancelled) => {
        if (csv) await send({ data: Buffer.from(`${CSV_COLUMNS.join(",")}\r\n`) });
        let cursor: string | undefined;
        do {
          const page = await listAuditEvents(db, filter, 1000, "oldest", cursor);
          const lines = page.items.map((r) => {
            const row = snake(auditEventToProto(r));
            return csv ? `${CSV_COLUMNS.map((c) => csvCell(row[c])).join(",")}\r\n` : `${JSON.stringify(row)}\n`;
          });
          if (lines.length > 0) await send({ data: Buffer.from(lines.join("")) });
          cursor = page.next;
        } while (cursor && !cancelled.aborted);
      };
    },
  };

  const verifyAuditChain: MethodSpec<VerifyAuditChainRequest, VerifyAuditChainResponse> = {
    rule: READ,
    async handle(req) {
      const fromId = parseId("from_id", req.fromId);
      const toId = parseId("to_id", req.toId);
      if (fromId !== undefined && toId !== undefined && toId < fromId) throw new InvalidArgumentError("to_id", "must not be below from_id");
      const r = await verifyChain(db, { fromId, toId });
      const problems = { altered: ChainProblem.CHAIN_PROBLEM_ALTERED, removed: ChainProblem.CHAIN_PROBLEM_REMOVED, inserted: ChainProblem.CHAIN_PROBLEM_INSERTED };
      return {
        ok: r.ok, checked: r.checked, firstBadId: r.firstBadId ?? "", problem: r.problem ? problems[r.problem] : ChainProblem.CHAIN_PROBLEM_UNSPECIFIED,
        message: r.message ?? "", chainStartId: r.startId, headId: r.headId, headHash: r.headHash,
      };
    },
  };

  const hashValue: MethodSpec<HashValueRequest, HashValueResponse> = {
    rule: READ,
    // The value is what the auditor searches for: the trail keeps only its HMAC.
    summarize: (req) => ({ value: req.value ? ring.auditHash(req.value) : "" }),
    async handle(req) {
      if (!req.value) throw new InvalidArgumentError("value", "is required");
      if (req.value.length > 8192) throw new InvalidArgumentError("value", "must be at most 8192 characters");
      return { hash: ring.auditHash(req.value) };
    },
  };

  return { listAuditEvents: listAuditEventsSpec, tailAuditEvents, exportAuditEvents, verifyAuditChain, hashValue };
}
