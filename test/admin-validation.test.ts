import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { AuthMethod, Permission } from "@a2a/sdk";
import { collectPages, rejects, startA2A, unique, type TestA2A } from "./helpers";

/** Bad input on every Admin RPC: the right status, a message naming field and rule, and no change. */
describe("AdminService: bad input is refused and changes nothing", function () {
  let a2a: TestA2A;
  let appId: string;
  let appName: string;
  let authzId: string;

  /** Everything AdminService can change, read straight from the store. */
  async function snapshot() {
    const db = a2a.server.database.knex;
    const [apps, authzs, grants, resources] = await Promise.all([
      db("applications").orderBy("id"),
      db("authorizations").orderBy("id"),
      db("grants").orderBy(["authorization_id", "resource"]),
      db("resources").orderBy("name"),
    ]);
    return JSON.stringify({ apps, authzs, grants, resources });
  }

  /** Runs the call, expects the status (and message), and checks the store did not change. */
  async function refused(call: () => Promise<unknown>, code: number, message?: RegExp) {
    const before = await snapshot();
    const err = await rejects(call(), code, message);
    assert.equal(await snapshot(), before, `store changed after a refused call (${err.details})`);
    return err;
  }

  before(async () => {
    a2a = await startA2A();
    const { admin } = a2a.client;
    await admin.createResource({ resource: { name: "pam-core" } });
    appName = unique("ERP");
    appId = (await admin.createApplication({ application: { name: appName, authMethod: AuthMethod.AUTH_METHOD_OAUTH2 } })).application!.id;
    authzId = (await admin.createAuthorization({
      authorization: { applicationId: appId, grants: [{ resource: "pam-core", permission: Permission.PERMISSION_READ }], allowedIps: ["*"] },
    })).authorization!.id;
  });

  after(() => a2a?.close());

  const oauth2 = AuthMethod.AUTH_METHOD_OAUTH2;

  it("CreateApplication", async () => {
    const { admin } = a2a.client;
    await refused(() => admin.createApplication({}), status.INVALID_ARGUMENT, /^application: is required/);
    await refused(() => admin.createApplication({ application: { name: "", authMethod: oauth2 } }), status.INVALID_ARGUMENT, /^application\.name: is required/);
    await refused(() => admin.createApplication({ application: { name: "   ", authMethod: oauth2 } }), status.INVALID_ARGUMENT, /^application\.name: is required and must not be blank/);
    await refused(() => admin.createApplication({ application: { name: "x".repeat(10_000), authMethod: oauth2 } }), status.INVALID_ARGUMENT, /^application\.name: must be at most 200 characters, got 10000/);
    await refused(() => admin.createApplication({ application: { name: "a\u0000b", authMethod: oauth2 } }), status.INVALID_ARGUMENT, /application\.name: .*control characters/);
    await refused(() => admin.createApplication({ application: { name: unique("n") } }), status.INVALID_ARGUMENT, /^application\.auth_method: is required/);
    await refused(() => admin.createApplication({ application: { name: unique("n"), authMethod: AuthMethod.AUTH_METHOD_AWS } }), status.INVALID_ARGUMENT, /application\.aws_arns: needs at least 1 IAM ARN for AUTH_METHOD_AWS/);
    await refused(() => admin.createApplication({ application: { name: unique("n"), authMethod: AuthMethod.AUTH_METHOD_AWS, awsArns: ["arn:aws:s3:::bucket"] } }), status.INVALID_ARGUMENT, /application\.aws_arns\[0\]: "arn:aws:s3:::bucket" is not an IAM ARN/);
    await refused(() => admin.createApplication({ application: { name: unique("n"), authMethod: oauth2, awsArns: ["arn:aws:iam::123456789012:role/x"] } }), status.INVALID_ARGUMENT, /application\.aws_arns: applies only to AUTH_METHOD_AWS/);
    await refused(() => admin.createApplication({ application: { name: unique("n"), authMethod: oauth2, tags: ["ok", "has space"] } }), status.INVALID_ARGUMENT, /application\.tags\[1\]: "has space" must not contain spaces/);
    await refused(() => admin.createApplication({ application: { name: unique("n"), authMethod: oauth2, tags: ["a", "a"] } }), status.INVALID_ARGUMENT, /application\.tags\[1\]: "a" is listed twice/);
    await refused(() => admin.createApplication({ application: { name: unique("n"), authMethod: oauth2, description: "d".repeat(2001) } }), status.INVALID_ARGUMENT, /application\.description: must be at most 2000/);
    // Names are unique case-insensitively.
    await refused(() => admin.createApplication({ application: { name: appName.toUpperCase(), authMethod: oauth2 } }), status.ALREADY_EXISTS, /application\.name: an application named .* already exists/);
  });

  it("GetApplication, UpdateApplication, DeleteApplication", async () => {
    const { admin } = a2a.client;
    await refused(() => admin.getApplication({ id: "" }), status.INVALID_ARGUMENT, /^id: is required/);
    await refused(() => admin.getApplication({ id: "not-a-uuid" }), status.INVALID_ARGUMENT, /^id: "not-a-uuid" is not an id/);
    await refused(() => admin.getApplication({ id: randomUUID() }), status.NOT_FOUND, /application ".*" not found/);
    await refused(() => admin.updateApplication({ application: { id: appId, name: "x" } }), status.INVALID_ARGUMENT, /^update_mask: is required/);
    await refused(() => admin.updateApplication({ application: { id: appId }, updateMask: ["auth_method"] }), status.INVALID_ARGUMENT, /update_mask\.paths\[0\]: "auth_method" is not an updatable field/);
    await refused(() => admin.updateApplication({ application: { id: appId, name: "" }, updateMask: ["name"] }), status.INVALID_ARGUMENT, /application\.name: is required/);
    await refused(() => admin.updateApplication({ application: { id: randomUUID(), name: "y" }, updateMask: ["name"] }), status.NOT_FOUND);
    const other = unique("other");
    await admin.createApplication({ application: { name: other, authMethod: oauth2 } });
    await refused(() => admin.updateApplication({ application: { id: appId, name: other }, updateMask: ["name"] }), status.ALREADY_EXISTS);
    await refused(() => admin.deleteApplication({ id: appId }), status.FAILED_PRECONDITION, /has 1 authorization\(s\); delete them first or set force: true/);
    await refused(() => admin.deleteApplication({ id: randomUUID() }), status.NOT_FOUND);
    await refused(() => admin.listApplications({ pageSize: -1 }), status.INVALID_ARGUMENT, /^page_size: must be 0/);
    await refused(() => admin.listApplications({ pageToken: "garbage" }), status.INVALID_ARGUMENT, /^page_token: is not a next_page_token/);
  });

  it("CreateAuthorization", async () => {
    const { admin } = a2a.client;
    const good = { applicationId: appId, grants: [{ resource: "pam-core", permission: Permission.PERMISSION_READ }], allowedIps: ["*"] };
    const create = (over: Record<string, unknown>) => () => admin.createAuthorization({ authorization: { ...good, ...over } });
    await refused(() => admin.createAuthorization({}), status.INVALID_ARGUMENT, /^authorization: is required/);
    await refused(create({ applicationId: "" }), status.INVALID_ARGUMENT, /^authorization\.application_id: is required/);
    await refused(create({ applicationId: randomUUID() }), status.NOT_FOUND, /application ".*" not found/);
    await refused(create({ allowedIps: [] }), status.INVALID_ARGUMENT, /^authorization\.allowed_ips: needs at least 1 entry/);
    await refused(create({ allowedIps: ["10.0.0.0/8", "10.0.0.0/33"] }), status.INVALID_ARGUMENT, /^authorization\.allowed_ips\[1\]: "10.0.0.0\/33" is not a CIDR block/);
    await refused(create({ allowedIps: ["10.1.2.3/8"] }), status.INVALID_ARGUMENT, /allowed_ips\[0\]: .*host bits set/);
    await refused(create({ allowedIps: ["intranet"] }), status.INVALID_ARGUMENT, /allowed_ips\[0\]: "intranet" is not an IP address/);
    await refused(create({ allowedReferers: ["erp.example.com"] }), status.INVALID_ARGUMENT, /^authorization\.allowed_referers\[0\]: "erp.example.com" is not a referer origin/);
    await refused(create({ grants: [] }), status.INVALID_ARGUMENT, /^authorization\.grants: needs at least 1 entry/);
    await refused(create({ grants: [{ resource: "billing", permission: Permission.PERMISSION_READ }] }), status.INVALID_ARGUMENT, /^authorization\.grants\[0\]\.resource: resource "billing" does not exist/);
    await refused(create({ grants: [{ resource: "Bad Name!", permission: Permission.PERMISSION_READ }] }), status.INVALID_ARGUMENT, /grants\[0\]\.resource: "Bad Name!" is not a resource name/);
    await refused(create({ grants: [{ resource: "pam-core" }] }), status.INVALID_ARGUMENT, /^authorization\.grants\[0\]\.permission: is required/);
    await refused(create({ grants: [{ resource: "pam-core", permission: 1 }, { resource: "pam-core", permission: 2 }] }), status.INVALID_ARGUMENT, /grants\[1\]: "pam-core" is listed twice/);
    await refused(create({ system: "x".repeat(101) }), status.INVALID_ARGUMENT, /^authorization\.system: must be at most 100/);
  });

  it("Get/Update/Delete/Reveal Authorization and ListAuthorizations", async () => {
    const { admin } = a2a.client;
    await refused(() => admin.getAuthorization({ id: randomUUID() }), status.NOT_FOUND, /authorization ".*" not found/);
    await refused(() => admin.getAuthorization({ id: "1" }), status.INVALID_ARGUMENT, /^id: "1" is not an id/);
    await refused(() => admin.updateAuthorization({ authorization: { id: authzId, allowedIps: ["300.0.0.1"] }, updateMask: ["allowed_ips"] }), status.INVALID_ARGUMENT, /^authorization\.allowed_ips\[0\]/);
    await refused(() => admin.updateAuthorization({ authorization: { id: authzId, grants: [{ resource: "nope", permission: 1 }] }, updateMask: ["grants"] }), status.INVALID_ARGUMENT, /resource "nope" does not exist/);
    await refused(() => admin.updateAuthorization({ authorization: { id: authzId }, updateMask: ["client_id"] }), status.INVALID_ARGUMENT, /"client_id" is not an updatable field/);
    await refused(() => admin.updateAuthorization({ authorization: { id: randomUUID(), description: "x" }, updateMask: ["description"] }), status.NOT_FOUND);
    await refused(() => admin.deleteAuthorization({ id: randomUUID() }), status.NOT_FOUND);
    await refused(() => admin.revealAuthorizationCredentials({ id: randomUUID() }), status.NOT_FOUND);
    await refused(() => admin.listAuthorizations({ applicationId: randomUUID() }), status.NOT_FOUND);
    await refused(() => admin.listAuthorizations({ pageSize: 5000 }), status.INVALID_ARGUMENT, /^page_size: must be 0 \(default 50\) to 1000, got 5000/);
  });

  it("CreateResource, DeleteResource, ListResources", async () => {
    const { admin } = a2a.client;
    await refused(() => admin.createResource({}), status.INVALID_ARGUMENT, /^resource: is required/);
    await refused(() => admin.createResource({ resource: { name: "" } }), status.INVALID_ARGUMENT, /^resource\.name: is required/);
    await refused(() => admin.createResource({ resource: { name: "PAM Core" } }), status.INVALID_ARGUMENT, /^resource\.name: "PAM Core" is not a resource name/);
    await refused(() => admin.createResource({ resource: { name: "r".repeat(10_000) } }), status.INVALID_ARGUMENT, /is not a resource name/);
    await refused(() => admin.createResource({ resource: { name: "pam-core" } }), status.ALREADY_EXISTS, /resource "pam-core" already exists/);
    await refused(() => admin.createResource({ resource: { name: "a2a" } }), status.ALREADY_EXISTS);
    await refused(() => admin.deleteResource({ name: "a2a" }), status.FAILED_PRECONDITION, /built in and cannot be deleted/);
    await refused(() => admin.deleteResource({ name: "pam-core" }), status.FAILED_PRECONDITION, /is granted by 1 authorization\(s\)/);
    await refused(() => admin.deleteResource({ name: "nothing-here" }), status.NOT_FOUND);
    await refused(() => admin.listResources({ pageToken: "zz" }), status.INVALID_ARGUMENT, /^page_token/);
  });

  it("input the store cannot hold is refused as INVALID_ARGUMENT (or an unknown client), never INTERNAL", async () => {
    const { admin, audit, token } = a2a.client;
    const cursor = (t: string, id: string) => Buffer.from(JSON.stringify({ t, id })).toString("base64url");
    await refused(() => admin.createAuthorization({
      authorization: { applicationId: appId, grants: [{ resource: "pam-core", permission: 1 }], allowedIps: ["*"], expiresAt: new Date(Date.UTC(10000, 0, 1)) },
    }), status.INVALID_ARGUMENT, /^authorization\.expires_at: must be a time between 1970/);
    await refused(() => admin.updateAuthorization({ authorization: { id: authzId, expiresAt: new Date(-1000) }, updateMask: ["expires_at"] }), status.INVALID_ARGUMENT, /expires_at/);
    await refused(() => admin.listApplications({ pageToken: cursor("2026-01-01T00:00:00Z", "x'; DROP TABLE applications; --") }), status.INVALID_ARGUMENT, /^page_token/);
    await refused(() => admin.listApplications({ pageToken: cursor("not a time", "00000000-0000-0000-0000-000000000000") }), status.INVALID_ARGUMENT, /^page_token/);
    await refused(() => admin.listResources({ pageToken: Buffer.from("r:\u0000").toString("base64url") }), status.INVALID_ARGUMENT, /^page_token/);
    await refused(() => audit.listAuditEvents({ clientId: "a\u0000b" }), status.INVALID_ARGUMENT, /^client_id: /);
    await refused(() => audit.listAuditEvents({ pageToken: Buffer.from("a:99999999999999999999").toString("base64url") }), status.INVALID_ARGUMENT, /^page_token/);
    await refused(() => audit.listAuditEvents({ startTime: new Date(Date.UTC(12000, 0, 1)) }), status.INVALID_ARGUMENT, /^start_time/);
    await refused(() => token.issueToken({ grantType: "client_credentials", clientId: "a2a_ci_\u0000", clientSecret: "x" }), status.UNAUTHENTICATED, /^invalid client credentials$/);
    const { events } = await audit.listAuditEvents({ statusCode: status.INTERNAL });
    assert.deepEqual(events, [], "no INTERNAL answer was ever given");
  });

  it("valid changes do change the store (the checks above are not vacuous)", async () => {
    const { admin } = a2a.client;
    const before = await snapshot();
    const { authorization } = await admin.updateAuthorization({
      authorization: { id: authzId, allowedIps: ["10.1.2.3", "2001:db8::/32"], allowedReferers: ["https://*.example.com"], enabled: false },
      updateMask: ["allowed_ips", "allowed_referers", "enabled"],
    });
    assert.deepEqual(authorization?.allowedIps, ["10.1.2.3/32", "2001:db8::/32"]);
    assert.deepEqual(authorization?.allowedReferers, ["https://*.example.com"]);
    assert.equal(authorization?.enabled, false);
    assert.notEqual(await snapshot(), before);
    const listed = await admin.listAuthorizations({ applicationId: appId });
    assert.deepEqual(listed.authorizations.map((x) => x.id), [authzId]);
    const extra = await admin.createAuthorization({ authorization: { applicationId: appId, grants: [{ resource: "pam-core", permission: 1 }], allowedIps: ["*"] } });
    await admin.deleteAuthorization({ id: extra.authorization!.id });
    await rejects(admin.getAuthorization({ id: extra.authorization!.id }), status.NOT_FOUND);
    await admin.createResource({ resource: { name: "billing" } });
    await admin.updateAuthorization({ authorization: { id: authzId, grants: [{ resource: "billing", permission: 2 }] }, updateMask: ["grants"] });
    await admin.deleteResource({ name: "pam-core" });
    await admin.deleteApplication({ id: appId, force: true });
    await rejects(admin.getAuthorization({ id: authzId }), status.NOT_FOUND);
  });

  it("every refused call was audited with its status and message", async () => {
    const { events } = await a2a.client.audit.listAuditEvents({ failuresOnly: true, pageSize: 1000 });
    assert.ok(events.length >= 50, `only ${events.length} failures audited`);
    assert.ok(events.every((e) => e.statusCode !== 0 && e.error.length > 0));
    const adminCalls = events.filter((e) => !e.method.endsWith("/IssueToken"));
    assert.ok(adminCalls.every((e) => e.clientId === a2a.admin.client_id));
    // The token request with a malformed client id is recorded without it.
    assert.ok(events.some((e) => e.method.endsWith("/IssueToken") && e.clientId === "(invalid client_id)"));
    const { events: invalid } = await a2a.client.audit.listAuditEvents({ statusCode: status.INVALID_ARGUMENT, method: "CreateAuthorization" });
    assert.ok(invalid.some((e) => /allowed_ips\[1\]/.test(e.error)));
  });
});

describe("AdminService: updates and paging", function () {
  let a2a: TestA2A;
  before(async () => {
    a2a = await startA2A();
  });
  after(() => a2a?.close());

  it("changes exactly the fields in the mask, or all of them with \"*\"", async () => {
    const { admin } = a2a.client;
    const { application } = await admin.createApplication({ application: { name: unique("app"), authMethod: AuthMethod.AUTH_METHOD_OAUTH2, description: "d1", tags: ["a"] } });
    const renamed = unique("renamed");
    const u1 = await admin.updateApplication({ application: { id: application!.id, name: renamed, description: "ignored" }, updateMask: ["name"] });
    assert.equal(u1.application?.name, renamed);
    assert.equal(u1.application?.description, "d1");
    assert.ok(u1.application!.updateTime! > application!.updateTime!);
    const u2 = await admin.updateApplication({ application: { id: application!.id, name: renamed, description: "d2", tags: ["b", "c"], enabled: false }, updateMask: ["*"] });
    assert.deepEqual([u2.application?.description, u2.application?.tags, u2.application?.enabled], ["d2", ["b", "c"], false]);
    assert.deepEqual((await admin.getApplication({ id: application!.id })).application, u2.application);
    // A name differing only in case from its own is not a clash.
    const u3 = await admin.updateApplication({ application: { id: application!.id, name: renamed.toUpperCase() }, updateMask: ["name"] });
    assert.equal(u3.application?.name, renamed.toUpperCase());
    // Without authorizations, no force is needed.
    await admin.deleteApplication({ id: application!.id });
    await rejects(admin.getApplication({ id: application!.id }), status.NOT_FOUND);
  });

  it("lists every application exactly once across pages, in creation order", async () => {
    const { admin } = a2a.client;
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      created.push((await admin.createApplication({ application: { name: unique(`page-${i}`), authMethod: AuthMethod.AUTH_METHOD_OAUTH2 } })).application!.id);
    }
    const { all: seen, pages } = await collectPages((pageToken) => admin.listApplications({ pageSize: 3, pageToken }), (p) => p.applications.map((a) => a.id));
    assert.ok(pages.every((p) => p.applications.length <= 3));
    for (const id of created) assert.equal(seen.filter((s) => s === id).length, 1);
    assert.ok(pages.length >= 3);
    const idx = created.map((id) => seen.indexOf(id));
    assert.deepEqual(idx, [...idx].sort((x, y) => x - y));
  });

  it("lists resources by name across pages", async () => {
    const { admin } = a2a.client;
    for (const n of ["res-c", "res-a", "res-b", "res-d"]) await admin.createResource({ resource: { name: n } });
    const { all: seen } = await collectPages((pageToken) => admin.listResources({ pageSize: 2, pageToken }), (p) => p.resources.map((r) => r.name));
    assert.deepEqual(seen, ["a2a", "res-a", "res-b", "res-c", "res-d"]);
  });
});
