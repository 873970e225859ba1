import { randomUUID } from "node:crypto";
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Knex } from "knex";
import { issueKeys } from "./domain/keys";
import { newClientId, type KeyRing } from "./domain/secrets";
import { applications } from "./store/applications";
import { authorizations } from "./store/authorizations";

export const ADMIN_APPLICATION = "A2A Administrator";

export interface AdminCredentials {
  readonly client_id: string;
  readonly client_secret: string;
  readonly application_id: string;
  readonly authorization_id: string;
}

/**
 * Creates an authorization with READ_WRITE on "a2a" (from any address) under the
 * "A2A Administrator" application, creating that application if needed. With
 * `onlyIfEmpty`, does nothing unless the store has no application at all (first start).
 * Serialised by an advisory lock so that nodes starting together create one administrator.
 */
export async function createAdministrator(
  db: Knex,
  ring: KeyRing,
  options: { onlyIfEmpty: boolean; createdBy: string },
): Promise<AdminCredentials | undefined> {
  return db.transaction(async (trx) => {
    await trx.raw("SELECT pg_advisory_xact_lock(hashtext('a2a.bootstrap'))");
    if (options.onlyIfEmpty && (await applications.count(trx)) > 0) return undefined;
    const now = new Date();
    let app = (await trx("applications").whereRaw("lower(name) = lower(?)", [ADMIN_APPLICATION]).first("id"))?.id as string | undefined;
    if (!app) {
      app = randomUUID();
      await applications.insert(trx, {
        id: app, name: ADMIN_APPLICATION, description: "Administers A2A (created at bootstrap)", authMethod: "oauth2",
        enabled: true, tags: ["a2a-admin"], awsArns: [], createdAt: now, updatedAt: now,
        createdBy: options.createdBy, updatedBy: options.createdBy,
      });
    }
    const clientId = newClientId();
    const keys = issueKeys("oauth2", clientId, ring);
    const authorizationId = randomUUID();
    await authorizations.insert(
      trx,
      {
        id: authorizationId, applicationId: app, clientId, description: "Administrator credentials", system: "a2a",
        environment: "", enabled: true, grants: [{ resource: "a2a", level: "read_write" }], allowedIps: ["*"],
        allowedReferers: [], createdAt: now, updatedAt: now, createdBy: options.createdBy, updatedBy: options.createdBy,
      },
      keys.stored,
    );
    return { client_id: clientId, client_secret: keys.credentials.clientSecret, application_id: app, authorization_id: authorizationId };
  });
}

/** Writes the credentials file readable by its owner only (0600). */
export function writeAdminCredentials(dataDir: string, creds: AdminCredentials): string {
  const file = path.join(dataDir, "admin-credentials.json");
  writeFileSync(file, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}
