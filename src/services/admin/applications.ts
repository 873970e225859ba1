import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import type {
  CreateApplicationRequest, CreateApplicationResponse, DeleteApplicationRequest, DeleteApplicationResponse,
  GetApplicationRequest, GetApplicationResponse, ListApplicationsRequest, ListApplicationsResponse,
  UpdateApplicationRequest, UpdateApplicationResponse,
} from "../../../sdk/src/gen/a2a/v1/admin_service";
import { AuthMethod, type Application } from "../../../sdk/src/gen/a2a/v1/types";
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../../domain/errors";
import * as v from "../../domain/validation";
import type { MethodSpec } from "../../interceptors/unary";
import { applications } from "../../store/applications";
import { authorizations } from "../../store/authorizations";
import { parsePage } from "../../store/paging";
import type { ApplicationRecord, AuthMethodName } from "../../store/records";
import { isUniqueViolation, type ServiceDeps } from "../deps";
import { applicationToProto, authMethodName } from "../mappers";

const READ = { resource: "a2a", access: "read" } as const;
const WRITE = { resource: "a2a", access: "write" } as const;
const UPDATABLE = ["name", "description", "enabled", "tags", "aws_arns"] as const;

function checkMethod(method: AuthMethod): AuthMethodName {
  const name = authMethodName(method);
  if (!name) {
    throw new InvalidArgumentError("application.auth_method", "is required: AUTH_METHOD_OAUTH2, AUTH_METHOD_OAUTH1 or AUTH_METHOD_AWS");
  }
  return name;
}

function checkArns(method: AuthMethodName, arns: readonly string[]): string[] {
  const out = v.awsArns("application.aws_arns", arns);
  if (out.length > 0 && method !== "aws") {
    throw new InvalidArgumentError("application.aws_arns", "applies only to AUTH_METHOD_AWS applications; leave it empty");
  }
  if (out.length === 0 && method === "aws") {
    throw new InvalidArgumentError("application.aws_arns", 'needs at least 1 IAM ARN for AUTH_METHOD_AWS, e.g. "arn:aws:iam::123456789012:role/erp" ("*" wildcards allowed)');
  }
  return out;
}

/**
 * Writes an application under a name that must stay unique (case-insensitively): checked first
 * for a clear answer, and by the unique index for the race between two writers.
 */
async function saveUniquelyNamed(db: Knex, name: string, exceptId: string | undefined, write: () => Promise<void>): Promise<void> {
  const taken = () => new AlreadyExistsError(`application.name: an application named "${v.preview(name)}" already exists (names are case-insensitive)`);
  if (await applications.nameTaken(db, name, exceptId)) throw taken();
  try {
    await write();
  } catch (e) {
    if (isUniqueViolation(e)) throw taken();
    throw e;
  }
}

export function applicationMethods(deps: ServiceDeps) {

  const createApplication: MethodSpec<CreateApplicationRequest, CreateApplicationResponse> = {
    rule: WRITE,
    mutates: true,
    async handle(req, ctx) {
      const a = req.application;
      if (!a) throw new InvalidArgumentError("application", "is required");
      const name = v.label("application.name", a.name, { required: true, max: 200 });
      const authMethod = checkMethod(a.authMethod);
      const record: ApplicationRecord = {
        id: randomUUID(), name, description: v.text("application.description", a.description, { max: 2000 }),
        authMethod, enabled: a.enabled ?? true, tags: v.tags("application.tags", a.tags), awsArns: checkArns(authMethod, a.awsArns),
        createdAt: ctx.now, updatedAt: ctx.now, createdBy: ctx.principal!.clientId, updatedBy: ctx.principal!.clientId,
      };
      ctx.audit.target = `application ${record.id}`;
      await saveUniquelyNamed(ctx.db, name, undefined, () => applications.insert(ctx.db, record));
      return { application: applicationToProto(record) };
    },
  };

  const getApplication: MethodSpec<GetApplicationRequest, GetApplicationResponse> = {
    rule: READ,
    async handle(req, ctx) {
      const id = v.requireId("id", req.id);
      ctx.audit.target = `application ${id}`;
      const app = await applications.get(ctx.db, id);
      if (!app) throw new NotFoundError("application", id);
      return { application: applicationToProto(app) };
    },
  };

  const listApplications: MethodSpec<ListApplicationsRequest, ListApplicationsResponse> = {
    rule: READ,
    async handle(req, ctx) {
      const page = await applications.list(ctx.db, parsePage(req, 50));
      return { applications: page.items.map(applicationToProto), nextPageToken: page.nextPageToken };
    },
  };

  const updateApplication: MethodSpec<UpdateApplicationRequest, UpdateApplicationResponse> = {
    rule: WRITE,
    mutates: true,
    async handle(req, ctx) {
      const a: Application | undefined = req.application;
      if (!a) throw new InvalidArgumentError("application", "is required");
      const id = v.requireId("application.id", a.id);
      ctx.audit.target = `application ${id}`;
      const mask = v.updateMask(req.updateMask, UPDATABLE);
      return ctx.db.transaction(async (trx) => {
        const current = await applications.get(trx, id, true);
        if (!current) throw new NotFoundError("application", id);
        const next: ApplicationRecord = {
          ...current,
          name: mask.has("name") ? v.label("application.name", a.name, { required: true, max: 200 }) : current.name,
          description: mask.has("description") ? v.text("application.description", a.description, { max: 2000 }) : current.description,
          enabled: mask.has("enabled") ? a.enabled ?? false : current.enabled,
          tags: mask.has("tags") ? v.tags("application.tags", a.tags) : current.tags,
          awsArns: mask.has("aws_arns") ? checkArns(current.authMethod, a.awsArns) : current.awsArns,
          updatedAt: ctx.now,
          updatedBy: ctx.principal!.clientId,
        };
        await saveUniquelyNamed(trx, next.name, id, () => applications.update(trx, next));
        return { application: applicationToProto(next) };
      });
    },
  };

  const deleteApplication: MethodSpec<DeleteApplicationRequest, DeleteApplicationResponse> = {
    rule: WRITE,
    mutates: true,
    async handle(req, ctx) {
      const id = v.requireId("id", req.id);
      ctx.audit.target = `application ${id}`;
      return ctx.db.transaction(async (trx) => {
        const app = await applications.get(trx, id, true);
        if (!app) throw new NotFoundError("application", id);
        const count = await authorizations.countForApplication(trx, id);
        if (count > 0 && !req.force) {
          throw new FailedPreconditionError(`application "${app.name}" has ${count} authorization(s); delete them first or set force: true`);
        }
        await applications.delete(trx, id);
        return {};
      });
    },
  };

  return { createApplication, getApplication, listApplications, updateApplication, deleteApplication };
}
