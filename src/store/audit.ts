import type { Knex } from "knex";

/** One audited RPC. Never holds a secret, token or signature: only identifiers and outcome. */
export interface AuditRecord {
  readonly time: Date;
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
}

export interface StoredAuditRecord extends AuditRecord {
  readonly id: string;
}

export interface AuditFilter {
  readonly startTime?: Date;
  readonly endTime?: Date;
  readonly clientId?: string;
  readonly applicationId?: string;
  readonly authorizationId?: string;
  /** An address or CIDR block. */
  readonly peerIp?: string;
  /** A full method path, or its last segment. */
  readonly method?: string;
  readonly statusCode?: number;
  readonly failuresOnly?: boolean;
}

const clip = (s: string | undefined, max: number) => (s === undefined ? null : s.length > max ? `${s.slice(0, max)}…` : s);

function toRow(r: AuditRecord) {
  return {
    time: r.time, request_id: r.requestId, node: r.node, peer_ip: r.peerIp ?? null, client_id: clip(r.clientId, 200),
    application_id: r.applicationId ?? null, application_name: r.applicationName ?? null,
    authorization_id: r.authorizationId ?? null, method: clip(r.method, 300), resource: clip(r.resource, 100),
    status_code: r.statusCode, error: clip(r.error, 1000), duration_ms: r.durationMs, user_agent: clip(r.userAgent, 300),
    referer: clip(r.referer, 500), target: clip(r.target, 300),
  };
}

type Row = ReturnType<typeof toRow> & { id: string | number };

function fromRow(r: Row): StoredAuditRecord {
  const opt = (v: string | null) => v ?? undefined;
  return {
    id: String(r.id), time: new Date(r.time), requestId: r.request_id, node: r.node, peerIp: opt(r.peer_ip),
    clientId: opt(r.client_id), applicationId: opt(r.application_id), applicationName: opt(r.application_name),
    authorizationId: opt(r.authorization_id), method: r.method as string, resource: opt(r.resource),
    statusCode: r.status_code, error: opt(r.error), durationMs: Number(r.duration_ms), userAgent: opt(r.user_agent),
    referer: opt(r.referer), target: opt(r.target),
  };
}

/**
 * Writes audit records with group commit: records that arrive while a batch is being
 * written go together in the next multi-row INSERT. `write` resolves once its record is
 * committed, so a caller can answer only after its audit record is durable.
 */
export class AuditWriter {
  private queue: { record: AuditRecord; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private draining: Promise<void> | undefined;

  constructor(private readonly db: Knex, private readonly maxBatch = 500) {}

  write(record: AuditRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await this.db("audit_events").insert(batch.map((b) => toRow(b.record)));
        for (const b of batch) b.resolve();
      } catch (error) {
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

/** Newest first, keyset paging on id. */
export async function listAuditEvents(db: Knex, filter: AuditFilter, size: number, beforeId?: string) {
  const q = db<Row>("audit_events").select("*").orderBy("id", "desc").limit(size + 1);
  if (beforeId) q.where("id", "<", beforeId);
  if (filter.startTime) q.where("time", ">=", filter.startTime);
  if (filter.endTime) q.where("time", "<", filter.endTime);
  if (filter.clientId) q.where("client_id", filter.clientId);
  if (filter.applicationId) q.where("application_id", filter.applicationId);
  if (filter.authorizationId) q.where("authorization_id", filter.authorizationId);
  if (filter.peerIp) q.whereRaw("peer_ip <<= ?::inet", [filter.peerIp]);
  if (filter.method) q.where((w) => w.where("method", filter.method!).orWhere("method", "like", `%/${filter.method}`));
  if (filter.statusCode !== undefined) q.where("status_code", filter.statusCode);
  if (filter.failuresOnly) q.whereNot("status_code", 0);
  const rows = (await q) as Row[];
  const more = rows.length > size;
  const items = rows.slice(0, size).map(fromRow);
  return { items, nextBeforeId: more ? items[items.length - 1].id : undefined };
}
