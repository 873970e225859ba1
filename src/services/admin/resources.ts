import type {
  CreateResourceRequest, CreateResourceResponse, DeleteResourceRequest, DeleteResourceResponse,
  ListResourcesRequest, ListResourcesResponse,
} from "../../../sdk/src/gen/a2a/v1/admin_service";
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../../domain/errors";
import * as v from "../../domain/validation";
import type { MethodSpec } from "../../interceptors/unary";
import type { ResourceRecord } from "../../store/records";
import { resources } from "../../store/resources";
import { isUniqueViolation, type ServiceDeps } from "../deps";
import { resourceToProto } from "../mappers";

export function resourceMethods(deps: ServiceDeps) {

  const createResource: MethodSpec<CreateResourceRequest, CreateResourceResponse> = {
    rule: { resource: "a2a", access: "write" },
    mutates: true,
    async handle(req, ctx) {
      const r = req.resource;
      if (!r) throw new InvalidArgumentError("resource", "is required");
      const record: ResourceRecord = {
        name: v.resourceName("resource.name", r.name),
        description: v.text("resource.description", r.description, { max: 2000 }),
        builtin: false,
        createdAt: ctx.now,
      };
      ctx.audit.target = `resource ${record.name}`;
      const exists = () => new AlreadyExistsError(`resource.name: resource "${record.name}" already exists`);
      if (await resources.get(ctx.db, record.name)) throw exists();
      try {
        await resources.insert(ctx.db, record, ctx.principal!.clientId);
      } catch (e) {
        if (isUniqueViolation(e)) throw exists();
        throw e;
      }
      return { resource: resourceToProto(record) };
    },
  };

  const listResources: MethodSpec<ListResourcesRequest, ListResourcesResponse> = {
    rule: { resource: "a2a", access: "read" },
    async handle(req, ctx) {
      const page = await resources.list(ctx.db, req.pageSize, req.pageToken);
      return { resources: page.items.map(resourceToProto), nextPageToken: page.nextPageToken };
    },
  };

  const deleteResource: MethodSpec<DeleteResourceRequest, DeleteResourceResponse> = {
    rule: { resource: "a2a", access: "write" },
    mutates: true,
    async handle(req, ctx) {
      const name = v.resourceName("name", req.name);
      ctx.audit.target = `resource ${name}`;
      const found = await resources.get(ctx.db, name);
      if (!found) throw new NotFoundError("resource", name);
      if (found.builtin) throw new FailedPreconditionError(`resource "${name}" is built in and cannot be deleted`);
      const grants = await resources.grantCount(ctx.db, name);
      if (grants > 0) {
        throw new FailedPreconditionError(`resource "${name}" is granted by ${grants} authorization(s); remove those grants first`);
      }
      try {
        await resources.delete(ctx.db, name);
      } catch (e) {
        // A grant added meanwhile: the foreign key refuses (23503).
        if ((e as { code?: string }).code === "23503") throw new FailedPreconditionError(`resource "${name}" was granted meanwhile; remove those grants first`);
        throw e;
      }
      return {};
    },
  };

  return { createResource, listResources, deleteResource };
}
