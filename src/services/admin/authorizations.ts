import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import type {
  CreateAuthorizationRequest, CreateAuthorizationResponse, DeleteAuthorizationRequest, DeleteAuthorizationResponse,
  GetAuthorizationRequest, GetAuthorizationResponse, ListAuthorizationsRequest, ListAuthorizationsResponse,
  RevealAuthorizationCredentialsRequest, RevealAuthorizationCredentialsResponse, UpdateAuthorizationRequest,
  UpdateAuthorizationResponse,
} from "../../../sdk/src/gen/a2a/v1/admin_service";
import { Permission, type Authorization, type Grant } from "../../../sdk/src/gen/a2a/v1/types";
import type { ResourceGrant } from "../../../sdk/src/policy";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from "../../domain/errors";
import { issueKeys, revealKeys } from "../../domain/keys";
import { newClientId } from "../../domain/secrets";
import * as v from "../../domain/validation";
import type { MethodSpec } from "../../interceptors/unary";
import { applications } from "../../store/applications";
import { authorizations } from "../../store/authorizations";
import { parsePage } from "../../store/paging";
import type { AuthorizationRecord } from "../../store/records";
import { resources } from "../../store/resources";
import type { ServiceDeps } from "../deps";
import { authorizationToProto } from "../mappers";

const READ = { resource: "a2a", access: "read" } as const;
const WRITE = { resource: "a2a", access: "write" } as const;
const UPDATABLE = ["description", "system", "environment", "enabled", "expires_at", "grants", "allowed_ips", "allowed_referers"] as const;

/** Grants: at least one, each naming an existing resource once with a permission. */
async function checkGrants(db: Knex, grants: readonly Grant[]): Promise<ResourceGrant[]> {
  if (grants.length === 0) throw new InvalidArgumentError("authorization.grants", "needs at least 1 entry ({resource, permission})");
  if (grants.length > 100) throw new InvalidArgumentError("authorization.grants", `allows at most 100 entries, got ${grants.length}`);
  const out = grants.map((g, i): ResourceGrant => {
    const field = `authorization.grants[${i}]`;
    const resource = v.resourceName(`${field}.resource`, g.resource);
    if (g.permission !== Permission.PERMISSION_READ && g.permission !== Permission.PERMISSION_READ_WRITE) {
      throw new InvalidArgumentError(`${field}.permission`, "is required: PERMISSION_READ or PERMISSION_READ_WRITE");
    }
    return { resource, level: g.permission === Permission.PERMISSION_READ_WRITE ? "read_write" : "read" };
  });
  v.unique("authorization.grants", out.map((g) => g.resource));
  const missing = await resources.missing(db, out.map((g) => g.resource));
  if (missing.length > 0) {
    const i = out.findIndex((g) => g.resource === missing[0]);
    throw new InvalidArgumentError(`authorization.grants[${i}].resource`, `resource "${missing[0]}" does not exist; create it first with CreateResource`);
  }
  return out;
}

export function authorizationMethods(deps: ServiceDeps) {
  const { ring, config } = deps;

  const createAuthorization: MethodSpec<CreateAuthorizationRequest, CreateAuthorizationResponse> = {
    rule: WRITE,
    mutates: true,
    async handle(req, ctx) {
      const a: Authorization | undefined = req.authorization;
      if (!a) throw new InvalidArgumentError("authorization", "is required");
      const applicationId = v.requireId("authorization.application_id", a.applicationId);
      ctx.audit.target = `application ${applicationId}`;
      const fields = {
        description: v.text("authorization.description", a.description, { max: 2000 }),
        system: v.label("authorization.system", a.system, { max: 100 }),
        environment: v.label("authorization.environment", a.environment, { max: 100 }),
        allowedIps: v.allowedIps("authorization.allowed_ips", a.allowedIps),
        allowedReferers: v.allowedReferers("authorization.allowed_referers", a.allowedReferers),
        expiresAt: v.timestamp("authorization.expires_at", a.expiresAt),
      };
      const grants = await checkGrants(ctx.db, a.grants);
      const app = await applications.get(ctx.db, applicationId);
      if (!app) throw new NotFoundError("application", applicationId);
      const clientId = newClientId();
      const keys = issueKeys(app.authMethod, clientId, ring);
      const record: AuthorizationRecord = {
        id: randomUUID(), applicationId, clientId, ...fields, enabled: a.enabled ?? true, grants,
        createdAt: ctx.now, updatedAt: ctx.now, createdBy: ctx.principal!.clientId, updatedBy: ctx.principal!.clientId,
      };
      ctx.audit.target = `authorization ${record.id} (${clientId})`;
      await ctx.db.transaction(async (trx) => {
        // The application may have been deleted since it was read; the foreign key says so too.
        if (!(await applications.get(trx, applicationId, true))) throw new NotFoundError("application", applicationId);
        await authorizations.insert(trx, record, keys.stored);
      });
      return { authorization: authorizationToProto(record), credentials: keys.credentials };
    },
  };

  const getAuthorization: MethodSpec<GetAuthorizationRequest, GetAuthorizationResponse> = {
    rule: READ,
    async handle(req, ctx) {
      const id = v.requireId("id", req.id);
      ctx.audit.target = `authorization ${id}`;
      const found = await authorizations.get(ctx.db, id);
      if (!found) throw new NotFoundError("authorization", id);
      return { authorization: authorizationToProto(found) };
    },
  };

  const listAuthorizations: MethodSpec<ListAuthorizationsRequest, ListAuthorizationsResponse> = {
    rule: READ,
    async handle(req, ctx) {
      const applicationId = req.applicationId ? v.requireId("application_id", req.applicationId) : undefined;
      const page = parsePage(req, 50);
      if (applicationId) {
        ctx.audit.target = `application ${applicationId}`;
        if (!(await applications.get(ctx.db, applicationId))) throw new NotFoundError("application", applicationId);
      }
      const result = await authorizations.list(ctx.db, applicationId, page);
      return { authorizations: result.items.map(authorizationToProto), nextPageToken: result.nextPageToken };
    },
  };

  const updateAuthorization: MethodSpec<UpdateAuthorizationRequest, UpdateAuthorizationResponse> = {
    rule: WRITE,
    mutates: true,
    async handle(req, ctx) {
      const a = req.authorization;
      if (!a) throw new InvalidArgumentError("authorization", "is required");
      const id = v.requireId("authorization.id", a.id);
      ctx.audit.target = `authorization ${id}`;
      const mask = v.updateMask(req.updateMask, UPDATABLE);
      // Validate everything before the transaction: PGlite has one connection.
      const grants = mask.has("grants") ? await checkGrants(ctx.db, a.grants) : undefined;
      const changes: Partial<AuthorizationRecord> = {
        ...(mask.has("description") && { description: v.text("authorization.description", a.description, { max: 2000 }) }),
        ...(mask.has("system") && { system: v.label("authorization.system", a.system, { max: 100 }) }),
        ...(mask.has("environment") && { environment: v.label("authorization.environment", a.environment, { max: 100 }) }),
        ...(mask.has("enabled") && { enabled: a.enabled ?? false }),
        ...(mask.has("expires_at") && { expiresAt: v.timestamp("authorization.expires_at", a.expiresAt) }),
        ...(grants && { grants }),
        ...(mask.has("allowed_ips") && { allowedIps: v.allowedIps("authorization.allowed_ips", a.allowedIps) }),
        ...(mask.has("allowed_referers") && { allowedReferers: v.allowedReferers("authorization.allowed_referers", a.allowedReferers) }),
      };
      return ctx.db.transaction(async (trx) => {
        const current = await authorizations.get(trx, id, true);
        if (!current) throw new NotFoundError("authorization", id);
        const next: AuthorizationRecord = { ...current, ...changes, updatedAt: ctx.now, updatedBy: ctx.principal!.clientId };
        if (grants && (await resources.missing(trx, grants.map((g) => g.resource))).length > 0) {
          throw new FailedPreconditionError("authorization.grants: a granted resource was deleted meanwhile; try again");
        }
        await authorizations.update(trx, next);
        return { authorization: authorizationToProto(next) };
      });
    },
  };

  const deleteAuthorization: MethodSpec<DeleteAuthorizationRequest, DeleteAuthorizationResponse> = {
    rule: WRITE,
    mutates: true,
    async handle(req, ctx) {
      const id = v.requireId("id", req.id);
      ctx.audit.target = `authorization ${id}`;
      if (!(await authorizations.delete(ctx.db, id))) throw new NotFoundError("authorization", id);
      return {};
    },
  };

  const revealAuthorizationCredentials: MethodSpec<RevealAuthorizationCredentialsRequest, RevealAuthorizationCredentialsResponse> = {
    rule: WRITE,
    async handle(req, ctx) {
      const id = v.requireId("id", req.id);
      ctx.audit.target = `authorization ${id}`;
      if (!config.allowReveal) {
        throw new PermissionDeniedError("revealing credentials is switched off on this server (A2A_ALLOW_REVEAL=false)");
      }
      const found = await authorizations.keys(ctx.db, id);
      if (!found) throw new NotFoundError("authorization", id);
      ctx.audit.target = `authorization ${id} (${found.clientId})`;
      return { credentials: revealKeys(found.clientId, found.keys, ring) };
    },
  };

  return { createAuthorization, getAuthorization, listAuthorizations, updateAuthorization, deleteAuthorization, revealAuthorizationCredentials };
}
