import type { Knex } from "knex";
import { chainHash, fromRow, type AuditRow } from "./audit";

/** Reading the audit trail: filtered pages, and checking the hash chain. */

export interface AuditFilter {
  readonly startTime?: Date;
  readonly endTime?: Date;
  readonly clientId?: string;
  readonly applicationId?: string;
  readonly authorizationId?: string;
  /** An address or CIDR block. */
  readonly peerIp?: string;
  /** Full method paths, any of them (index: method, id). */
  readonly methods?: readonly string[];
  /** A method's last segment, for methods no service of this version has (matched by suffix: a scan). */
  readonly methodName?: string;
  /** Only records up to this id (a tail reads up to the head it saw). */
  readonly throughId?: string;
  readonly statusCode?: number;
  readonly failuresOnly?: boolean;
  readonly resource?: string;
  readonly requestText?: string;
}

function applyFilter(q: Knex.QueryBuilder, filter: AuditFilter): void {
  if (filter.startTime) q.where("time", ">=", filter.startTime);
  if (filter.endTime) q.where("time", "<", filter.endTime);
  if (filter.clientId) q.where("client_id", filter.clientId);
  if (filter.applicationId) q.where("application_id", filter.applicationId);
  if (filter.authorizationId) q.where("authorization_id", filter.authorizationId);
  if (filter.peerIp) q.whereRaw("peer_ip <<= ?::inet", [filter.peerIp]);
  if (filter.methods) q.whereIn("method", filter.methods);
  if (filter.methodName) q.where("method", "like", `%/${filter.methodName.replace(/[\\%_]/g, "\\$&")}`);
  if (filter.throughId) q.where("id", "<=", filter.throughId);
  if (filter.statusCode !== undefined) q.where("status_code", filter.statusCode);
  if (filter.failuresOnly) q.whereNot("status_code", 0);
  if (filter.resource) q.where("resource", filter.resource);
  if (filter.requestText) q.whereRaw("strpos(request::text, ?) > 0", [filter.requestText]);
}

/** A page of events, keyset on id: newest first (before `cursor`) or oldest first (after it). */
export async function listAuditEvents(db: Knex, filter: AuditFilter, size: number, order: "newest" | "oldest", cursor?: string) {
  const q = db<AuditRow>("audit_events").select("*").orderBy("id", order === "newest" ? "desc" : "asc").limit(size + 1);
  if (cursor) q.where("id", order === "newest" ? "<" : ">", cursor);
  applyFilter(q, filter);
  const rows = (await q) as AuditRow[];
  const more = rows.length > size;
  const items = rows.slice(0, size).map(fromRow);
  return { items, next: more ? items[items.length - 1].id : undefined };
}

export async function chainState(db: Knex): Promise<{ headId: string; headHash: string; startId: string; startPrevHash: string }> {
  const c = await db("audit_chain").where({ id: 1 }).first();
  return { headId: String(c.head_id), headHash: c.head_hash, startId: String(c.start_id), startPrevHash: c.start_prev_hash };
}

export type ChainProblemKind = "altered" | "removed" | "inserted";
export interface ChainReport {
  readonly ok: boolean;
  readonly checked: number;
  readonly firstBadId?: string;
  readonly problem?: ChainProblemKind;
  readonly message?: string;
  readonly startId: string;
  readonly headId: string;
  readonly headHash: string;
}

/**
 * Walks the chain from `fromId` to `toId` (default: where the kept chain starts, to the head)
 * and reports the first record that was altered (content or link), removed (an id missing) or
 * inserted (an id twice, or beyond the head). Reads in slices of ids, so a duplicate is seen.
 */
export async function verifyChain(db: Knex, range: { fromId?: number; toId?: number } = {}): Promise<ChainReport> {
  const state = await chainState(db);
  const start = Number(state.startId);
  const head = Number(state.headId);
  const from = Math.max(range.fromId ?? start, start);
  const to = Math.min(range.toId ?? head, head);
  const base = { startId: state.startId, headId: state.headId, headHash: state.headHash };
  const bad = (id: number, problem: ChainProblemKind, message: string, checked: number): ChainReport =>
    ({ ...base, ok: false, checked, firstBadId: String(id), problem, message });

  let prev: string;
  if (from === start) prev = state.startPrevHash;
  else {
    const before = await db("audit_events").where({ id: from - 1 }).select("hash");
    if (before.length !== 1) return bad(from - 1, before.length === 0 ? "removed" : "inserted", `record ${from - 1}, which record ${from} follows, is ${before.length === 0 ? "missing" : "there twice"}`, 0);
    prev = before[0].hash;
  }
  let expected = from;
  let checked = 0;
  let last: AuditRow | undefined;
  const SLICE = 1000;
  for (let lo = from; lo <= to; lo += SLICE) {
    const rows = (await db("audit_events").whereBetween("id", [lo, Math.min(lo + SLICE - 1, to)]).orderBy("id").select("*")) as AuditRow[];
    for (const row of rows) {
      const id = Number(row.id);
      if (id < expected) return bad(id, "inserted", `record ${id} appears more than once`, checked);
      if (id > expected) return bad(expected, "removed", `record ${expected} is missing`, checked);
      if (chainHash(row.prev_hash, row) !== row.hash) return bad(id, "altered", `record ${id}'s content does not match its hash`, checked);
      if (row.prev_hash !== prev) return bad(id, "altered", `record ${id} does not follow record ${id - 1}: one of them was replaced`, checked);
      prev = row.hash;
      last = row;
      expected++;
      checked++;
    }
  }
  if (expected <= to) return bad(expected, "removed", `record ${expected} is missing`, checked);
  if (to === head && head >= start && last && last.hash !== state.headHash) {
    return bad(head, "altered", `the head record ${head} does not match the chain's recorded head`, checked);
  }
  if (range.toId === undefined) {
    const beyond = await db("audit_events").whereRaw("id > (SELECT head_id FROM audit_chain WHERE id = 1)").orderBy("id").first("id");
    if (beyond) return bad(Number(beyond.id), "inserted", `record ${beyond.id} is beyond the chain's head ${head}`, checked);
  }
  return { ...base, ok: true, checked };
}

