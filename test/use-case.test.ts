import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { AuthMethod, bearerAuth, ClientCredentialsTokenSource, createClient, Permission } from "@a2a/sdk";
import { connectPam } from "../examples/erp/client";
import { CredentialServiceDefinition } from "../examples/gen/pam/v1/credential_service";
import { startPamServer, type PamServer } from "../examples/pam/server";
import { collectPages, rejects, sleep, startA2A, unique, type TestA2A } from "./helpers";

/**
 * Lucas, IT administrator of a logistics company, integrates his ERP with PAM Core through
 * A2A, end to end: the administrator's SDK client, the ERP's SDK client, the example PAM Core
 * service behind the guard, and the audit trail.
 */
describe("use case: ERP Finance calls PAM Core through A2A (OAuth 2.0)", function () {
  // Lucas is in São Paulo (UTC-3): "2025-01-30 18:00" there is 21:00 UTC.
  const EXPIRED = new Date("2025-01-30T18:00:00-03:00");
  const FUTURE = new Date("2027-01-30T18:00:00-03:00");
  const REFERER = "https://erp.example.com/finance";
  const CACHE_MS = 150;

  let a2a: TestA2A;
  let pam: PamServer;
  let appId: string;
  let authzId: string;
  let erpCreds: { clientId: string; clientSecret: string };
  const erp = () => connectPam({ a2aAddress: a2a.address, pamAddress: pam.address, ...erpCreds, referer: REFERER });

  before(async () => {
    a2a = await startA2A();
    const { admin } = a2a.client;
    await admin.createResource({ resource: { name: "pam-core", description: "PAM Core API" } });
    // PAM Core's own authorization: lets its guard introspect tokens for pam-core.
    const pamApp = await admin.createApplication({ application: { name: unique("PAM Core"), authMethod: AuthMethod.AUTH_METHOD_OAUTH2 } });
    const pamAuthz = await admin.createAuthorization({
      authorization: { applicationId: pamApp.application!.id, grants: [{ resource: "pam-core", permission: Permission.PERMISSION_READ }], allowedIps: ["127.0.0.1/32"] },
    });
    pam = await startPamServer({ a2aAddress: a2a.address, introspection: { ...pamAuthz.credentials!, cacheMs: CACHE_MS } });
  });

  after(async () => {
    await pam?.close();
    await a2a?.close();
  });

  it("1. the administrator adds the application, enabled, using OAuth 2.0", async () => {
    const { application } = await a2a.client.admin.createApplication({
      application: { name: "ERP Finance - Integration", authMethod: AuthMethod.AUTH_METHOD_OAUTH2, enabled: true, description: "Finance ERP", tags: ["erp", "finance"] },
    });
    assert.ok(application);
    assert.equal(application.name, "ERP Finance - Integration");
    assert.equal(application.authMethod, AuthMethod.AUTH_METHOD_OAUTH2);
    assert.equal(application.enabled, true);
    assert.equal(application.createdBy, a2a.admin.client_id);
    appId = application.id;
    const fetched = await a2a.client.admin.getApplication({ id: appId });
    assert.deepEqual(fetched.application, application);
  });

  it("2. adds an authorization: pam-core read-write, expiry, IP blocks and referers", async () => {
    const { authorization, credentials } = await a2a.client.admin.createAuthorization({
      authorization: {
        applicationId: appId,
        description: "ERP Finance to PAM Core",
        system: "SAP",
        environment: "production",
        expiresAt: FUTURE,
        grants: [{ resource: "pam-core", permission: Permission.PERMISSION_READ_WRITE }],
        allowedIps: ["127.0.0.0/8", "::1/128"],
        allowedReferers: ["https://erp.example.com"],
      },
    });
    assert.ok(authorization && credentials);
    assert.equal(authorization.expiresAt?.toISOString(), "2027-01-30T21:00:00.000Z");
    assert.deepEqual(authorization.grants, [{ resource: "pam-core", permission: Permission.PERMISSION_READ_WRITE }]);
    assert.deepEqual(authorization.allowedIps, ["127.0.0.0/8", "::1/128"]);
    assert.equal(authorization.enabled, true);
    assert.equal(credentials.clientId, authorization.clientId);
    assert.match(credentials.clientSecret, /^a2a_cs_[0-9A-Za-z]{49}$/);
    authzId = authorization.id;
    erpCreds = credentials;
  });

  it("3. views the Client ID and Client Secret again (a privileged, audited operation)", async () => {
    const { credentials } = await a2a.client.admin.revealAuthorizationCredentials({ id: authzId });
    assert.deepEqual(credentials, erpCreds);
    const { events } = await a2a.client.audit.listAuditEvents({ method: "RevealAuthorizationCredentials" });
    assert.equal(events[0].statusCode, 0);
    assert.match(events[0].target, new RegExp(erpCreds.clientId));
  });

  it("4. the ERP lists credentials (read) and updates one (write), the token attached by the SDK", async () => {
    const c = erp();
    try {
      const { credentials } = await c.pam.listCredentials({});
      assert.deepEqual(credentials.map((x) => x.id).sort(), ["cred-bank", "cred-sap"]);
      const { credential } = await c.pam.updateCredential({ id: "cred-sap", username: "svc_sap_2025" });
      assert.equal(credential?.username, "svc_sap_2025");
      assert.equal(pam.credentials.get("cred-sap")?.username, "svc_sap_2025");
      assert.equal(pam.credentials.get("cred-sap")?.updatedBy, erpCreds.clientId);
      assert.equal(c.tokens!.fetches, 1, "one token served both calls");
    } finally {
      c.close();
    }
    const { authorization } = await a2a.client.admin.getAuthorization({ id: authzId });
    assert.equal(authorization?.lastUsedIp, "127.0.0.1");
    assert.ok(authorization?.lastUsedAt);
  });

  it("the audit trail shows every one of those requests", async () => {
    const { all } = await collectPages((pageToken) => a2a.client.audit.listAuditEvents({ pageSize: 5, pageToken }), (p) => p.events);
    const ok = (method: string, clientId: string) =>
      all.filter((e) => e.method.endsWith(`/${method}`) && e.clientId === clientId && e.statusCode === 0);
    assert.equal(ok("CreateApplication", a2a.admin.client_id).length, 2);
    assert.equal(ok("CreateAuthorization", a2a.admin.client_id).length, 2);
    assert.equal(ok("RevealAuthorizationCredentials", a2a.admin.client_id).length, 1);
    const issued = ok("IssueToken", erpCreds.clientId);
    assert.equal(issued.length, 1);
    assert.equal(issued[0].applicationName, "ERP Finance - Integration");
    assert.equal(issued[0].authorizationId, authzId);
    assert.equal(issued[0].peerIp, "127.0.0.1");
    assert.equal(issued[0].referer, REFERER);
    assert.equal(issued[0].resource, "pam-core");
    // Each PAM call was checked with A2A by the guard (introspection, beyond the cache).
    const introspections = all.filter((e) => e.method.endsWith("/IntrospectToken") && e.target.includes(erpCreds.clientId));
    assert.ok(introspections.length >= 1);
    assert.ok(all.every((e) => e.node === "test-node" && e.requestId && e.time instanceof Date));
    // Newest first, no duplicates across pages.
    const ids = all.map((e) => Number(e.id));
    assert.deepEqual(ids, [...ids].sort((x, y) => y - x));
    assert.equal(new Set(ids).size, ids.length);
  });

  async function authorize(permission: Permission, extra: Record<string, unknown> = {}) {
    const { credentials, authorization } = await a2a.client.admin.createAuthorization({
      authorization: { applicationId: appId, grants: [{ resource: "pam-core", permission }], allowedIps: ["*"], ...extra },
    });
    return { ...credentials!, id: authorization!.id };
  }

  it("a read-only authorization can list but not update", async () => {
    const ro = await authorize(Permission.PERMISSION_READ);
    const c = connectPam({ a2aAddress: a2a.address, pamAddress: pam.address, ...ro });
    try {
      assert.equal((await c.pam.listCredentials({})).credentials.length, 2);
      const before = pam.credentials.get("cred-bank")?.username;
      await rejects(c.pam.updateCredential({ id: "cred-bank", username: "nope" }), status.PERMISSION_DENIED, /read-write access to resource "pam-core"/);
      assert.equal(pam.credentials.get("cred-bank")?.username, before);
    } finally {
      c.close();
    }
  });

  it("a call from an IP outside the allowed blocks is refused, at issue and at the guard", async () => {
    const outside = await authorize(Permission.PERMISSION_READ_WRITE, { allowedIps: ["10.0.0.0/8", "2001:db8::/32"] });
    const c = connectPam({ a2aAddress: a2a.address, pamAddress: pam.address, ...outside });
    try {
      await rejects(c.pam.listCredentials({}), status.PERMISSION_DENIED, /127\.0\.0\.1 is not in this authorization's allowed_ips/);
    } finally {
      c.close();
    }
    // A token obtained while the address was allowed stops working when the rule changes.
    const inside = await authorize(Permission.PERMISSION_READ_WRITE, { allowedIps: ["127.0.0.1/32"] });
    const d = connectPam({ a2aAddress: a2a.address, pamAddress: pam.address, ...inside });
    try {
      await d.pam.listCredentials({});
      await a2a.client.admin.updateAuthorization({ authorization: { id: inside.id, allowedIps: ["10.0.0.0/8"] }, updateMask: ["allowed_ips"] });
      await sleep(CACHE_MS + 50);
      await rejects(d.pam.listCredentials({}), status.PERMISSION_DENIED, /allowed_ips/);
    } finally {
      d.close();
    }
  });

  it("a wrong referer is refused, at issue and at the guard", async () => {
    const wrong = connectPam({ a2aAddress: a2a.address, pamAddress: pam.address, ...erpCreds, referer: "https://erp.example.com.evil.com/" });
    try {
      await rejects(wrong.pam.listCredentials({}), status.PERMISSION_DENIED, /allowed_referers/);
    } finally {
      wrong.close();
    }
    // A token obtained with the right referer, then used from another origin.
    const tokens = new ClientCredentialsTokenSource({ address: a2a.address, ...erpCreds, metadata: { referer: REFERER } });
    const client = createClient(CredentialServiceDefinition, pam.address, { interceptors: [bearerAuth(tokens)], metadata: { referer: "https://evil.example.net" } });
    try {
      await rejects(client.listCredentials({}), status.PERMISSION_DENIED, /referer "https:\/\/evil.example.net" is not in/);
      await rejects(client.listCredentials({}, { metadata: { referer: "" } }), status.PERMISSION_DENIED, /allowed_referers/);
    } finally {
      client.close();
      tokens.close();
    }
  });

  it("an authorization that expired on 2025-01-30 18:00 is refused; one expiring in 2027 works", async () => {
    const expired = await authorize(Permission.PERMISSION_READ, { expiresAt: EXPIRED });
    const c = connectPam({ a2aAddress: a2a.address, pamAddress: pam.address, ...expired });
    try {
      await rejects(c.pam.listCredentials({}), status.UNAUTHENTICATED, /invalid client credentials/);
    } finally {
      c.close();
    }
    const future = await authorize(Permission.PERMISSION_READ, { expiresAt: FUTURE });
    const f = connectPam({ a2aAddress: a2a.address, pamAddress: pam.address, ...future });
    try {
      assert.equal((await f.pam.listCredentials({})).credentials.length, 2);
      // Moving the expiry into the past stops the token already held.
      await a2a.client.admin.updateAuthorization({ authorization: { id: future.id, expiresAt: EXPIRED }, updateMask: ["expires_at"] });
      await sleep(CACHE_MS + 50);
      await rejects(f.pam.listCredentials({}), status.UNAUTHENTICATED, /invalid/);
    } finally {
      f.close();
    }
  });

  it("after the application is disabled, its calls are refused (and work again when re-enabled)", async () => {
    const c = erp();
    try {
      await c.pam.listCredentials({});
      await a2a.client.admin.updateApplication({ application: { id: appId, enabled: false }, updateMask: ["enabled"] });
      await sleep(CACHE_MS + 50);
      // The guard learns it from A2A; the SDK's retry with a new token is refused too.
      await rejects(c.pam.listCredentials({}), status.UNAUTHENTICATED, /invalid client credentials|invalid access token/);
      await a2a.client.admin.updateApplication({ application: { id: appId, enabled: true }, updateMask: ["enabled"] });
      await sleep(CACHE_MS + 50);
      assert.equal((await c.pam.listCredentials({})).credentials.length, 2);
    } finally {
      c.close();
    }
    const { events } = await a2a.client.audit.listAuditEvents({ clientId: erpCreds.clientId, failuresOnly: true, method: "IssueToken" });
    const refused = events.find((e) => e.statusCode === status.UNAUTHENTICATED && /application_disabled/.test(e.error));
    assert.ok(refused, JSON.stringify(events));
    // The refusal is attributed: the caller proved who it is before the policy said no.
    assert.equal(refused.applicationName, "ERP Finance - Integration");
    assert.equal(refused.error, "invalid client credentials (application_disabled)");
  });

  it("a guard without introspection decides from the token alone: scope, IP and referer claims", async () => {
    const offline = await startPamServer({ a2aAddress: a2a.address });
    try {
      const ro = await authorize(Permission.PERMISSION_READ, { allowedReferers: ["https://erp.example.com"] });
      const c = connectPam({ a2aAddress: a2a.address, pamAddress: offline.address, ...ro, referer: REFERER });
      try {
        assert.equal((await c.pam.listCredentials({})).credentials.length, 2);
        await rejects(c.pam.updateCredential({ id: "cred-sap", username: "x" }), status.PERMISSION_DENIED);
        await rejects(c.pam.listCredentials({}, { metadata: { referer: "https://other.example.com" } }), status.PERMISSION_DENIED, /referer/);
      } finally {
        c.close();
      }
      // The IP rule travels in the token: behind a trusted proxy, a client outside the blocks is refused.
      const proxied = await startPamServer({ a2aAddress: a2a.address, trustedProxies: ["127.0.0.1/32"] });
      const local = await authorize(Permission.PERMISSION_READ, { allowedIps: ["127.0.0.0/8"] });
      const p = connectPam({ a2aAddress: a2a.address, pamAddress: proxied.address, ...local });
      try {
        assert.equal((await p.pam.listCredentials({})).credentials.length, 2);
        await rejects(p.pam.listCredentials({}, { metadata: { "x-forwarded-for": "198.51.100.7" } }), status.PERMISSION_DENIED, /198\.51\.100\.7 is not in this authorization's allowed_ips/);
      } finally {
        p.close();
        await proxied.close();
      }
      // No token at all, and a token for another resource.
      const bare = createClient(CredentialServiceDefinition, offline.address);
      await rejects(bare.listCredentials({}), status.UNAUTHENTICATED, /missing credentials/);
      await rejects(bare.listCredentials({}, { metadata: { authorization: "Bearer not.a.jwt" } }), status.UNAUTHENTICATED, /invalid access token/);
      const adminToken = await a2a.client.tokens!.getToken();
      await rejects(bare.listCredentials({}, { metadata: { authorization: `Bearer ${adminToken}` } }), status.UNAUTHENTICATED, /invalid access token/);
      bare.close();
    } finally {
      await offline.close();
    }
  });
});
