import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { AuthMethod, createClient, Permission, policy, TokenServiceDefinition } from "@a2a/sdk";
import { appendToChain } from "../src/store/audit";
import { rejects, startA2A, unique, type TestA2A } from "./helpers";

describe("AuditService.ListAuditEvents filters", function () {
  let a2a: TestA2A;
  let app: string;
  let authz: { id: string; clientId: string; clientSecret: string };
  let middle: Date;

  before(async () => {
    a2a = await startA2A();
    const { admin } = a2a.client;
    await admin.createResource({ resource: { name: "pam-core" } });
    app = (await admin.createApplication({ application: { name: unique("ERP"), authMethod: AuthMethod.AUTH_METHOD_OAUTH2 } })).application!.id;
    const created = await admin.createAuthorization({
      authorization: { applicationId: app, grants: [{ resource: "pam-core", permission: Permission.PERMISSION_READ }], allowedIps: ["*"] },
    });
    authz = { id: created.authorization!.id, ...created.credentials! };
    await new Promise((r) => setTimeout(r, 20));
    middle = new Date();
    await new Promise((r) => setTimeout(r, 20));
    const token = createClient(TokenServiceDefinition, a2a.address);
    await token.issueToken({ grantType: "client_credentials", clientId: authz.clientId, clientSecret: authz.clientSecret });
    await rejects(token.issueToken({ grantType: "client_credentials", clientId: authz.clientId, clientSecret: "wrong" }), status.UNAUTHENTICATED);
    token.close();
  });
  after(() => a2a?.close());

  const list = (filter: Record<string, unknown>) => a2a.client.audit.listAuditEvents({ pageSize: 1000, ...filter }).then((r) => r.events);

  it("by client, application and authorization", async () => {
    const byClient = await list({ clientId: authz.clientId });
    assert.deepEqual(byClient.map((e) => e.method.split("/").pop()), ["IssueToken", "IssueToken"]);
    const byApp = await list({ applicationId: app });
    assert.ok(byApp.length >= 1 && byApp.every((e) => e.applicationId === app));
    const byAuthz = await list({ authorizationId: authz.id });
    assert.ok(byAuthz.length >= 1 && byAuthz.every((e) => e.authorizationId === authz.id));
  });

  it("by time range, status, failures, method and peer address or block", async () => {
    const after = await list({ startTime: middle });
    assert.ok(after.every((e) => e.time! >= middle));
    assert.ok(after.some((e) => e.clientId === authz.clientId));
    const before = await list({ endTime: middle });
    assert.ok(before.length >= 3 && before.every((e) => e.time! < middle));
    assert.ok(!before.some((e) => e.clientId === authz.clientId && e.method.endsWith("IssueToken")));
    const denied = await list({ statusCode: status.UNAUTHENTICATED, clientId: authz.clientId });
    assert.equal(denied.length, 1);
    assert.match(denied[0].error, /invalid client credentials \(wrong client_secret\)/);
    const ok = await list({ statusCode: 0, clientId: authz.clientId });
    assert.equal(ok.length, 1);
    assert.equal((await list({ failuresOnly: true, clientId: authz.clientId })).length, 1);
    assert.ok((await list({ method: "/a2a.v1.AdminService/CreateResource" })).length === 1);
    assert.ok((await list({ peerIp: "127.0.0.1" })).length >= 5);
    assert.ok((await list({ peerIp: "127.0.0.0/8" })).length >= 5);
    assert.equal((await list({ peerIp: "10.0.0.0/8" })).length, 0);
  });

  it("by method: a last segment finds its method on any service, by index; an unknown one by suffix; no wildcards", async () => {
    const byName = await list({ method: "IssueToken", clientId: authz.clientId });
    assert.equal(byName.length, 2);
    // The short name is answered as the full paths that have it: the store is asked with IN, not LIKE.
    const asked: string[] = [];
    const spy = (q: { sql: string }) => /from "audit_events"/.test(q.sql) && asked.push(q.sql);
    a2a.server.database.knex.on("query", spy);
    try {
      assert.ok((await list({ method: "CreateResource" })).length === 1);
    } finally {
      a2a.server.database.knex.off("query", spy);
    }
    assert.ok(asked.some((sql) => /"method" in \(/.test(sql)) && !asked.some((sql) => /like/i.test(sql)), asked.join("\n"));
    // A method this version has no longer (recorded by an older one) is still found by its last segment.
    await a2a.server.database.knex.transaction((trx) =>
      appendToChain(trx, [{ requestId: randomUUID(), node: "old", method: "/a2a.v1.RetiredService/Old_Method", statusCode: 0, durationMs: 1 }]));
    assert.equal((await list({ method: "Old_Method" })).length, 1);
    assert.equal((await list({ method: "OldXMethod" })).length, 0, "_ is not a wildcard");
    assert.equal((await list({ method: "Issue_oken" })).length, 0);
  });

  it("refuses bad filters naming the field", async () => {
    const { audit } = a2a.client;
    await rejects(audit.listAuditEvents({ peerIp: "nope" }), status.INVALID_ARGUMENT, /^peer_ip: "nope" is not an IP address/);
    await rejects(audit.listAuditEvents({ startTime: middle, endTime: middle }), status.INVALID_ARGUMENT, /^end_time: must be after start_time/);
    await rejects(audit.listAuditEvents({ method: "x%" }), status.INVALID_ARGUMENT, /^method: /);
    await rejects(audit.listAuditEvents({ statusCode: 42 }), status.INVALID_ARGUMENT, /^status_code: must be a gRPC status code/);
    await rejects(audit.listAuditEvents({ applicationId: "x" }), status.INVALID_ARGUMENT, /^application_id: "x" is not an id/);
    await rejects(audit.listAuditEvents({ pageToken: "bad" }), status.INVALID_ARGUMENT, /^page_token/);
  });

  it("requires READ on a2a", async () => {
    const anon = createClient(TokenServiceDefinition, a2a.address);
    const t = await anon.issueToken({ grantType: "client_credentials", clientId: authz.clientId, clientSecret: authz.clientSecret });
    anon.close();
    const { AuditServiceDefinition } = await import("@a2a/sdk");
    const audit = createClient(AuditServiceDefinition, a2a.address);
    await rejects(audit.listAuditEvents({}, { metadata: { authorization: `Bearer ${t.accessToken}` } }), status.PERMISSION_DENIED, /resource "a2a"/);
    audit.close();
  });
});

describe("client address behind a proxy", function () {
  it("X-Forwarded-For counts only from a trusted proxy", async () => {
    const behindProxy = await startA2A({ trustedProxies: [policy.parseIpRule("127.0.0.1/32")] });
    const direct = await startA2A();
    try {
      for (const a of [behindProxy, direct]) {
        await a.client.admin.createResource({ resource: { name: "pam-core" } });
      }
      const setup = async (a: TestA2A) => {
        const appId = (await a.client.admin.createApplication({ application: { name: unique("x"), authMethod: AuthMethod.AUTH_METHOD_OAUTH2 } })).application!.id;
        return (await a.client.admin.createAuthorization({
          authorization: { applicationId: appId, grants: [{ resource: "pam-core", permission: 1 }], allowedIps: ["203.0.113.0/24"] },
        })).credentials!;
      };
      const issue = (a: TestA2A, c: { clientId: string; clientSecret: string }, xff?: string) => {
        const t = createClient(TokenServiceDefinition, a.address, xff ? { metadata: { "x-forwarded-for": xff } } : {});
        return t.issueToken({ grantType: "client_credentials", ...c }).finally(() => t.close());
      };
      const viaProxy = await setup(behindProxy);
      assert.ok((await issue(behindProxy, viaProxy, "203.0.113.5")).accessToken);
      await rejects(issue(behindProxy, viaProxy), status.PERMISSION_DENIED, /127\.0\.0\.1 is not in/);
      await rejects(issue(behindProxy, viaProxy, "198.51.100.1, 203.0.113.5, 10.9.9.9"), status.PERMISSION_DENIED, /10\.9\.9\.9 is not in/);
      const { events } = await behindProxy.client.audit.listAuditEvents({ clientId: viaProxy.clientId, statusCode: 0 });
      assert.equal(events[0].peerIp, "203.0.113.5");
      // The same header from a peer that is not a trusted proxy is a spoof: ignored.
      const spoofed = await setup(direct);
      await rejects(issue(direct, spoofed, "203.0.113.5"), status.PERMISSION_DENIED, /127\.0\.0\.1 is not in/);
    } finally {
      await behindProxy.close();
      await direct.close();
    }
  });
});
