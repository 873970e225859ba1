import type { Knex } from "knex";
import type { ResourceGrant } from "../../sdk/src/policy";
import { CLIENT_ID_PATTERN } from "../domain/secrets";
import { toApplication } from "./applications";
import { fetchPage } from "./paging";
import { json, type AuthorizationRecord, type CredentialRecord, type StoredKeys } from "./records";

type Row = {
  id: string; application_id: string; client_id: string; description: string; system: string; environment: string;
  enabled: boolean; expires_at: Date | null; allowed_ips: string[]; allowed_referers: string[];
  last_used_at: Date | null; last_used_ip: string | null; created_at: Date; updated_at: Date;
  created_by: string; updated_by: string; grants: ResourceGrant[];
};

/** Every read of an authorization brings its grants along in the same query. */
const GRANTS = `(SELECT coalesce(json_agg(json_build_object('resource', g.resource, 'level', g.level) ORDER BY g.resource), '[]'::json)
  FROM grants g WHERE g.authorization_id = authorizations.id) AS grants`;

function selectAuthorizations(db: Knex) {
  return db("authorizations").select(
    "authorizations.id", "authorizations.application_id", "authorizations.client_id", "authorizations.description",
    "authorizations.system", "authorizations.environment", "authorizations.enabled", "authorizations.expires_at",
    "authorizations.allowed_ips", "authorizations.allowed_referers", "authorizations.last_used_at",
    "authorizations.last_used_ip", "authorizations.created_at", "authorizations.updated_at",
    "authorizations.created_by", "authorizations.updated_by", db.raw(GRANTS),
  );
}

function toAuthorization(row: Row): AuthorizationRecord {
  return {
    id: row.id, applicationId: row.application_id, clientId: row.client_id, description: row.description,
    system: row.system, environment: row.environment, enabled: row.enabled,
    expiresAt: row.expires_at ? new Date(row.expires_at) : undefined,
    grants: typeof row.grants === "string" ? JSON.parse(row.grants) : row.grants,
    allowedIps: row.allowed_ips, allowedReferers: row.allowed_referers,
    lastUsedAt: row.last_used_at ? new Date(row.last_used_at) : undefined, lastUsedIp: row.last_used_ip ?? undefined,
    createdAt: new Date(row.created_at), updatedAt: new Date(row.updated_at), createdBy: row.created_by, updatedBy: row.updated_by,
  };
}

function toRow(a: AuthorizationRecord) {
  return {
    id: a.id, application_id: a.applicationId, client_id: a.clientId, description: a.description, system: a.system,
    environment: a.environment, enabled: a.enabled, expires_at: a.expiresAt ?? null, allowed_ips: json(a.allowedIps),
    allowed_referers: json(a.allowedReferers), created_at: a.createdAt, updated_at: a.updatedAt,
    created_by: a.createdBy, updated_by: a.updatedBy,
  };
}

const KEY_COLUMNS = ["secret_hash", "secret_sealed", "oauth1_token", "oauth1_token_secret_sealed"] as const;

function keysToRow(k: StoredKeys) {
  return {
    secret_hash: k.secretHash ?? null, secret_sealed: k.secretSealed ?? null,
    oauth1_token: k.oauth1Token ?? null, oauth1_token_secret_sealed: k.oauth1TokenSecretSealed ?? null,
  };
}

function keysFromRow(row: Record<(typeof KEY_COLUMNS)[number], string | null>): StoredKeys {
  return {
    secretHash: row.secret_hash ?? undefined, secretSealed: row.secret_sealed ?? undefined,
    oauth1Token: row.oauth1_token ?? undefined, oauth1TokenSecretSealed: row.oauth1_token_secret_sealed ?? undefined,
  };
}

async function replaceGrants(db: Knex, authorizationId: string, grants: readonly ResourceGrant[]): Promise<void> {
  await db("grants").where({ authorization_id: authorizationId }).delete();
  if (grants.length > 0) {
    await db("grants").insert(grants.map((g) => ({ authorization_id: authorizationId, resource: g.resource, level: g.level })));
  }
}

/** What this node last wrote as an authorization's last use, per database. */
const lastTouchedByDb = new WeakMap<Knex, Map<string, { at: number; ip: string | undefined }>>();

/** Authorizations and their grants. Writes must run inside a transaction (`db` = the trx). */
export const authorizations = {
  async insert(trx: Knex, a: AuthorizationRecord, keys: StoredKeys): Promise<void> {
    await trx("authorizations").insert({ ...toRow(a), ...keysToRow(keys) });
    await replaceGrants(trx, a.id, a.grants);
  },

  async update(trx: Knex, a: AuthorizationRecord): Promise<void> {
    const { id, application_id, client_id, created_at, created_by, ...rest } = toRow(a);
    await trx("authorizations").where({ id }).update(rest);
    await replaceGrants(trx, id, a.grants);
  },

  async get(db: Knex, id: string, forUpdate = false): Promise<AuthorizationRecord | undefined> {
    const q = selectAuthorizations(db).where("authorizations.id", id).first();
    if (forUpdate) q.forUpdate();
    const row = await q;
    return row ? toAuthorization(row) : undefined;
  },

  /** The stored keys of an authorization (to reveal them). */
  async keys(db: Knex, id: string): Promise<{ clientId: string; keys: StoredKeys } | undefined> {
    const row = await db("authorizations").where({ id }).first("client_id", ...KEY_COLUMNS);
    return row ? { clientId: row.client_id, keys: keysFromRow(row) } : undefined;
  },

  /**
   * The authorization with this client id, its application and secret hash, in one query;
   * with `jti`, also whether that token was revoked (saves a round trip per bearer call).
   */
  /**
   * The credentials of a client id, as a caller presented it: a value without the client-id
   * format is nobody's and never reaches the query (no NUL bytes or megabytes in SQL).
   */
  async byClientId(db: Knex, clientId: string, jti?: string): Promise<(CredentialRecord & { tokenRevoked: boolean }) | undefined> {
    if (!CLIENT_ID_PATTERN.test(clientId)) return undefined;
    const row = await selectAuthorizations(db)
      .select(
        ...KEY_COLUMNS.map((c) => `authorizations.${c}`),
        db.raw("EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = ?) AS token_revoked", [jti ?? ""]),
        db.raw(`json_build_object('id', ap.id, 'name', ap.name, 'description', ap.description, 'auth_method', ap.auth_method,
          'enabled', ap.enabled, 'tags', ap.tags, 'aws_arns', ap.aws_arns, 'created_at', ap.created_at, 'updated_at', ap.updated_at,
          'created_by', ap.created_by, 'updated_by', ap.updated_by) AS app`),
      )
      .join("applications as ap", "ap.id", "authorizations.application_id")
      .where("authorizations.client_id", clientId)
      .first();
    if (!row) return undefined;
    const app = typeof row.app === "string" ? JSON.parse(row.app) : row.app;
    return { authorization: toAuthorization(row), application: toApplication(app), keys: keysFromRow(row), tokenRevoked: row.token_revoked === true };
  },

  async delete(db: Knex, id: string): Promise<boolean> {
    return (await db("authorizations").where({ id }).delete("id")).length > 0;
  },

  async countForApplication(db: Knex, applicationId: string): Promise<number> {
    const row = await db("authorizations").where({ application_id: applicationId }).count<{ n: string | number }>({ n: "*" }).first();
    return Number(row?.n ?? 0);
  },

  async list(db: Knex, applicationId: string | undefined, page: Parameters<typeof fetchPage>[2]) {
    const q = selectAuthorizations(db);
    if (applicationId) q.where("authorizations.application_id", applicationId);
    const { rows, nextPageToken } = await fetchPage<Row>(q, "authorizations", page);
    return { items: rows.map(toAuthorization), nextPageToken };
  },

  /**
   * Records use. Written at most once a minute per authorization unless the address
   * changes, so that a busy client does not turn every call into a write (nor a query: this
   * node remembers what it wrote last).
   */
  async touch(db: Knex, id: string, ip: string | undefined, now: Date): Promise<void> {
    let lastTouched = lastTouchedByDb.get(db);
    if (!lastTouched) lastTouchedByDb.set(db, (lastTouched = new Map()));
    const last = lastTouched.get(id);
    if (last && last.ip === ip && now.getTime() - last.at < 60_000) return;
    if (lastTouched.size > 100_000) lastTouched.clear();
    lastTouched.set(id, { at: now.getTime(), ip });
    await db("authorizations")
      .where({ id })
      .andWhere((w) =>
        w.whereNull("last_used_at")
          .orWhere("last_used_at", "<", new Date(now.getTime() - 60_000))
          .orWhereRaw("last_used_ip IS DISTINCT FROM ?", [ip ?? null]),
      )
      .update({ last_used_at: now, last_used_ip: ip ?? null });
  },
};
