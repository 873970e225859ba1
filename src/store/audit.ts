import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Knex } from "knex";
import { normalizeIp } from "../../sdk/src/policy";
import { stableJson } from "../audit/redact";

/**
 * The audit trail: one record per RPC, in a hash chain. Each record's `id` is its place in the
 * chain (1, 2, 3… over every node), its `prev_hash` the hash of the record before it, and its
 * `hash` the SHA-256 of `prev_hash` and its own canonical content. Appending takes the chain's
 * head row FOR UPDATE, so nodes sharing one database append one after another: ids are gapless
 * and in commit order, and `time` (set under the same lock, never earlier than the head's) grows
 * with them, so that monthly partitions hold contiguous ranges of the chain.
 */

/** One audited RPC. Never holds a secret, token or signature: identifiers, outcome, redacted request. */
export interface AuditRecord {
  readonly requestId: string;
  readonly node: string;
  readonly peerIp?: string;
  readonly clientId?: string;
  readonly applicationId?: string;
  readonly applicationName?: string;
  readonly authorizationId?: string;
  readonly method: string;
  readonly resource?: string;
  readonly statusCode: number;
  readonly error?: string;
  readonly durationMs: number;
  readonly userAgent?: string;
  readonly referer?: string;
  readonly target?: string;
  /** The redacted request summary. */
  readonly request?: Record<string, unknown>;
}

export interface StoredAuditRecord extends AuditRecord {
  readonly id: string;
  readonly time: Date;
  readonly prevHash: string;
  readonly hash: string;
}

export const GENESIS = "0".repeat(64);

/** Text the store can hold (no NUL), bounded. */
const clip = (s: string | undefined, max: number) => {
  if (s === undefined) return null;
  const clean = s.replace(/\u0000/g, "\uFFFD");
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
};

/** A row of audit_events as the drivers return it (ids are strings on pg, numbers on PGlite). */
export interface AuditRow {
  id: string | number;
  time: Date;
  request_id: string;
  node: string;
  peer_ip: string | null;
  client_id: string | null;
  application_id: string | null;
  application_name: string | null;
  authorization_id: string | null;
  method: string;
  resource: string | null;
  status_code: number;
  error: string | null;
  duration_ms: number;
  user_agent: string | null;
  referer: string | null;
  target: string | null;
  request: Record<string, unknown> | null;
  prev_hash: string;
  hash: string;
}

/** The summary as jsonb can hold it (no NUL) and bounded (8 KB of JSON). */
function boundedRequest(request: Record<string, unknown> | undefined): Record<string, unknown> | null {
  if (!request) return null;
  const text = stableJson(request).replace(/\\u0000/g, "\\ufffd");
  return text.length > 8000 ? { truncated: true, bytes: text.length } : JSON.parse(text);
}

function contentOf(r: AuditRecord): Omit<AuditRow, "id" | "time" | "prev_hash" | "hash"> {
  return {
    request_id: r.requestId, node: clip(r.node, 200)!, peer_ip: r.peerIp ? normalizeIp(r.peerIp)?.text ?? null : null,
    client_id: clip(r.clientId, 200), application_id: r.applicationId ?? null, application_name: clip(r.applicationName, 200),
    authorization_id: r.authorizationId ?? null, method: clip(r.method, 300)!, resource: clip(r.resource, 100),
    status_code: r.statusCode, error: clip(r.error, 1000), duration_ms: r.durationMs, user_agent: clip(r.userAgent, 300),
    referer: clip(r.referer, 500), target: clip(r.target, 300),
    request: boundedRequest(r.request),
  };
}

/** The canonical content a record's hash covers: every column but the hashes, as stored. */
export function canonicalContent(row: Omit<AuditRow, "prev_hash" | "hash">): string {
  return stableJson({
    id: String(row.id), time: new Date(row.time).toISOString(), request_id: row.request_id, node: row.node,
    peer_ip: row.peer_ip ? normalizeIp(row.peer_ip)?.text ?? row.peer_ip : null, client_id: row.client_id,
    application_id: row.application_id, application_name: row.application_name, authorization_id: row.authorization_id,
    method: row.method, resource: row.resource, status_code: Number(row.status_code), error: row.error,
    duration_ms: Number(row.duration_ms), user_agent: row.user_agent, referer: row.referer, target: row.target,
    request: typeof row.request === "string" ? JSON.parse(row.request) : row.request,
  });
}

export function chainHash(prevHash: string, row: Omit<AuditRow, "prev_hash" | "hash">): string {
  return createHash("sha256").update(`${prevHash}\n${canonicalContent(row)}`).digest("hex");
}

export function fromRow(r: AuditRow): StoredAuditRecord {
  const opt = (v: string | null) => v ?? undefined;
  return {
    id: String(r.id), time: new Date(r.time), requestId: r.request_id, node: r.node, peerIp: opt(r.peer_ip),
    clientId: opt(r.client_id), applicationId: opt(r.application_id), applicationName: opt(r.application_name),
    authorizationId: opt(r.authorization_id), method: r.method, resource: opt(r.resource),
    statusCode: r.status_code, error: opt(r.error), durationMs: Number(r.duration_ms), userAgent: opt(r.user_agent),
    referer: opt(r.referer), target: opt(r.target),
    request: (typeof r.request === "string" ? JSON.parse(r.request) : r.request) ?? undefined,
    prevHash: r.prev_hash, hash: r.hash,
  };
}

/** Month partitions: audit_events_pYYYYMM holds [first of the month, first of the next) UTC. */
export function partitionOf(time: Date): { name: string; from: string; to: string } {
  const y = time.getUTCFullYear();
  const m = time.getUTCMonth();
  const iso = (yy: number, mm: number) => new Date(Date.UTC(yy, mm, 1)).toISOString();
  return { name: `audit_events_p${y}${String(m + 1).padStart(2, "0")}`, from: iso(y, m), to: iso(y, m + 1) };
}

export async function createPartition(db: Knex, time: Date): Promise<void> {
  const p = partitionOf(time);
  try {
    await db.raw(`CREATE TABLE IF NOT EXISTS ?? PARTITION OF audit_events FOR VALUES FROM ('${p.from}') TO ('${p.to}')`, [p.name]);
  } catch (e) {
    // Another node created it at the same moment.
    if (!/^(42P07|23505)$/.test(String((e as { code?: string }).code))) throw e;
  }
}

interface Head {
  readonly id: number;
  readonly hash: string;
  readonly time: number;
}

async function readHead(db: Knex, forUpdate = false): Promise<Head> {
  const q = db("audit_chain").where({ id: 1 }).first("head_id", "head_hash", "head_time");
  if (forUpdate) q.forUpdate();
  const h = await q;
  return { id: Number(h.head_id), hash: h.head_hash, time: new Date(h.head_time).getTime() };
}

/** Numbers and hashes records to follow `head`; their time is now, never before the head's. */
function chainRecords(head: Head, records: readonly AuditRecord[]): { rows: AuditRow[]; next: Head } {
  let id = head.id;
  let prev = head.hash;
  const time = new Date(Math.max(Date.now(), head.time));
  const rows: AuditRow[] = records.map((r) => {
    id++;
    const content = { id, time, ...contentOf(r) };
    const row = { ...content, prev_hash: prev, hash: chainHash(prev, content) };
    prev = row.hash;
    return row;
  });
  return { rows, next: { id, hash: prev, time: time.getTime() } };
}

const COLUMNS: ReadonlyArray<readonly [keyof AuditRow, string]> = [
  ["id", "bigint"], ["time", "timestamptz"], ["request_id", "uuid"], ["node", "text"], ["peer_ip", "inet"], ["client_id", "text"],
  ["application_id", "uuid"], ["application_name", "text"], ["authorization_id", "uuid"], ["method", "text"], ["resource", "text"],
  ["status_code", "integer"], ["error", "text"], ["duration_ms", "double precision"], ["user_agent", "text"], ["referer", "text"],
  ["target", "text"], ["request", "jsonb"], ["prev_hash", "text"], ["hash", "text"],
];
const COLUMN_LIST = COLUMNS.map(([c]) => c).join(", ");
const ROW_PLACEHOLDERS = `(${COLUMNS.map(([, t]) => `?::${t}`).join(", ")})`;
const bind = (r: AuditRow) => COLUMNS.map(([c]) => (c === "request" ? (r.request === null ? null : JSON.stringify(r.request)) : r[c]));

/**
 * Appends in one statement, if the chain's head is still `head`: the UPDATE of the head row
 * (which waits for any other writer's lock, then re-checks) and the INSERT of the records
 * commit together or not at all. Returns the new head, or undefined when another writer moved
 * the head first (read it again and retry).
 */
async function appendIfHead(db: Knex, head: Head, records: readonly AuditRecord[]): Promise<{ next: Head; rows: AuditRow[] } | undefined> {
  const { rows, next } = chainRecords(head, records);
  const result = await db.raw(
    `WITH head AS (
       UPDATE audit_chain SET head_id = ?, head_hash = ?, head_time = ?
       WHERE id = 1 AND head_id = ? AND head_hash = ? RETURNING 1),
     ins AS (
       INSERT INTO audit_events (${COLUMN_LIST})
       SELECT * FROM (VALUES ${rows.map(() => ROW_PLACEHOLDERS).join(", ")}) AS v (${COLUMN_LIST})
       WHERE EXISTS (SELECT 1 FROM head) RETURNING 1)
     SELECT (SELECT count(*) FROM head) AS moved`,
    [next.id, next.hash, new Date(next.time), head.id, head.hash, ...rows.flatMap(bind)],
  );
  return Number(result.rows[0].moved) === 1 ? { next, rows } : undefined;
}

/**
 * Appends records to the chain inside `trx`, holding the head row's lock until `trx` ends:
 * for a change that must commit together with its record. Their month's partition must exist.
 */
export async function appendToChain(trx: Knex, records: readonly AuditRecord[]): Promise<StoredAuditRecord[]> {
  const head = await readHead(trx, true);
  const appended = await appendIfHead(trx, head, records);
  if (!appended) throw new Error("the audit chain's head moved while locked");
  return appended.rows.map(fromRow);
}

/**
 * Writes audit records with group commit: records that arrive while a batch is being written
 * go together in the next transaction (one multi-row INSERT). `write` resolves once its record
 * is committed, so a caller answers only after its audit record is durable. Emits "committed"
 * after each batch (live tails wake up on it).
 */
export class AuditWriter extends EventEmitter {
  private queue: { record: AuditRecord; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private draining: Promise<void> | undefined;
  private readonly partitions = new Set<string>();
  /** The head as this node last wrote it; another node's (or a change's) append makes it stale. */
  private head?: Head;

  constructor(private readonly db: Knex, private readonly maxBatch = 500) {
    super();
    this.setMaxListeners(0);
  }

  /** Makes sure the partition for `time` (and the next month's) exists; cached. Never inside a transaction. */
  async ready(time = new Date()): Promise<void> {
    const next = new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth() + 1, 1));
    for (const t of [time, next]) {
      const { name } = partitionOf(t);
      if (this.partitions.has(name)) continue;
      await createPartition(this.db, t);
      this.partitions.add(name);
    }
  }

  /** Forgets which partitions exist (after retention dropped some). */
  forgetPartitions(): void {
    this.partitions.clear();
  }

  /**
   * Runs an append (its own transaction) once the month's partition exists; if the partition
   * went away meanwhile (retention on another node, PostgreSQL 23514 "no partition for row"),
   * creates it and runs the append again.
   */
  async withPartition<T>(append: () => Promise<T>): Promise<T> {
    await this.ready();
    try {
      return await append();
    } catch (e) {
      if ((e as { code?: string }).code !== "23514") throw e;
      this.forgetPartitions();
      await this.ready();
      return append();
    }
  }

  write(record: AuditRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  /** Appends within the caller's transaction (a change and its record commit together). */
  async appendWithin(trx: Knex, record: AuditRecord): Promise<void> {
    this.head = undefined;
    await appendToChain(trx, [record]);
  }

  /**
   * One batch: a single statement when this node's view of the head is current (the common
   * case), read again and retried when another writer moved it; after a few lost races, the
   * batch waits for the head row's lock instead.
   */
  private async appendBatch(records: readonly AuditRecord[]): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const head = this.head ?? (await readHead(this.db));
      const appended = await appendIfHead(this.db, head, records);
      if (appended) {
        this.head = appended.next;
        return;
      }
      this.head = undefined;
    }
    await this.db.transaction((trx) => appendToChain(trx, records));
  }

  /** Call after a transaction that used appendWithin committed. */
  notifyCommitted(): void {
    this.emit("committed");
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await this.withPartition(() => this.appendBatch(batch.map((b) => b.record)));
        for (const b of batch) b.resolve();
        this.emit("committed");
      } catch (error) {
        this.head = undefined;
        for (const b of batch) b.reject(error);
      }
    }
    this.draining = undefined;
  }

  /** Waits for every queued record. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }
}

/**
 * Retention: drops month partitions older than `months` full months before `now`'s month,
 * oldest first, recording where the kept chain starts (the id after the last dropped record,
 * and that record's hash) so the rest stays verifiable. Returns the dropped partitions.
 */
export async function dropExpiredPartitions(db: Knex, months: number, now: Date): Promise<string[]> {
  if (months <= 0) return [];
  const cutoff = partitionOf(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - months + 1, 1))).name;
  const parts = await db.raw(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'audit_events'::regclass AND c.relname LIKE 'audit_events_p%' ORDER BY 1`,
  );
  const dropped: string[] = [];
  for (const { name } of parts.rows as { name: string }[]) {
    if (name >= cutoff) break;
    await db.transaction(async (trx) => {
      await trx("audit_chain").where({ id: 1 }).forUpdate().first();
      const last = await trx(name).orderBy("id", "desc").first("id", "hash");
      await trx.raw("DROP TABLE ??", [name]);
      if (last) await trx("audit_chain").where({ id: 1 }).update({ start_id: Number(last.id) + 1, start_prev_hash: last.hash });
    });
    dropped.push(name);
  }
  return dropped;
}
