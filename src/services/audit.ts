import type { AuditEvent, ListAuditEventsRequest, ListAuditEventsResponse } from "../../sdk/src/gen/a2a/v1/audit_service";
import { parseIpRule } from "../../sdk/src/policy";
import { InvalidArgumentError } from "../domain/errors";
import * as v from "../domain/validation";
import type { MethodSpec } from "../interceptors/unary";
import { statusName } from "../interceptors/unary";
import { listAuditEvents, type AuditFilter, type StoredAuditRecord } from "../store/audit";
import { pageSize } from "../store/paging";
import type { ServiceDeps } from "./deps";

function toProto(r: StoredAuditRecord): AuditEvent {
  return {
    id: r.id, time: r.time, requestId: r.requestId, node: r.node, peerIp: r.peerIp ?? "", clientId: r.clientId ?? "",
    applicationId: r.applicationId ?? "", applicationName: r.applicationName ?? "", authorizationId: r.authorizationId ?? "",
    method: r.method, resource: r.resource ?? "", statusCode: r.statusCode, status: statusName(r.statusCode),
    error: r.error ?? "", durationMs: r.durationMs, userAgent: r.userAgent ?? "", referer: r.referer ?? "", target: r.target ?? "",
  };
}

function parseFilter(req: ListAuditEventsRequest): AuditFilter {
  v.timestamp("start_time", req.startTime);
  v.timestamp("end_time", req.endTime);
  if (req.clientId) v.label("client_id", req.clientId, { max: 200 });
  if (req.startTime && req.endTime && req.startTime >= req.endTime) {
    throw new InvalidArgumentError("end_time", "must be after start_time");
  }
  if (req.peerIp) {
    try {
      parseIpRule(req.peerIp);
    } catch (e) {
      throw new InvalidArgumentError("peer_ip", (e as Error).message);
    }
    if (req.peerIp === "*") throw new InvalidArgumentError("peer_ip", 'give an address or CIDR block; leave it empty for any');
  }
  if (req.method && !/^[A-Za-z0-9_./]{1,200}$/.test(req.method)) {
    throw new InvalidArgumentError("method", `"${v.preview(req.method)}" is not a method name like "IssueToken" or "/a2a.v1.TokenService/IssueToken"`);
  }
  if (req.statusCode !== undefined && (req.statusCode < 0 || req.statusCode > 16)) {
    throw new InvalidArgumentError("status_code", `must be a gRPC status code 0 to 16, got ${req.statusCode}`);
  }
  return {
    startTime: req.startTime, endTime: req.endTime,
    clientId: req.clientId || undefined,
    applicationId: req.applicationId ? v.requireId("application_id", req.applicationId) : undefined,
    authorizationId: req.authorizationId ? v.requireId("authorization_id", req.authorizationId) : undefined,
    peerIp: req.peerIp || undefined, method: req.method || undefined, statusCode: req.statusCode, failuresOnly: req.failuresOnly,
  };
}

export function auditMethods(deps: ServiceDeps) {
  const listAuditEventsSpec: MethodSpec<ListAuditEventsRequest, ListAuditEventsResponse> = {
    rule: { resource: "a2a", access: "read" },
    async handle(req) {
      const filter = parseFilter(req);
      const size = pageSize(req.pageSize, 100);
      let before: string | undefined;
      if (req.pageToken) {
        const decoded = Buffer.from(req.pageToken, "base64url").toString("utf8");
        if (!/^a:\d{1,18}$/.test(decoded)) throw new InvalidArgumentError("page_token", "is not a next_page_token returned by this list");
        before = decoded.slice(2);
      }
      const page = await listAuditEvents(deps.db, filter, size, before);
      return {
        events: page.items.map(toProto),
        nextPageToken: page.nextBeforeId ? Buffer.from(`a:${page.nextBeforeId}`).toString("base64url") : "",
      };
    },
  };
  return { listAuditEvents: listAuditEventsSpec };
}
