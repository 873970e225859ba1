import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Metadata, status } from "@grpc/grpc-js";
import OAuth from "oauth-1.0a";
import { AdminServiceDefinition, AuthMethod, connectA2A, createClient, oauth1, Permission, type Credentials } from "@a2a/sdk";
import { ListResourcesRequest } from "../sdk/src/gen/a2a/v1/admin_service";
import { connectPam } from "../examples/erp/client";
import { CredentialServiceDefinition, ListCredentialsRequest, UpdateCredentialRequest } from "../examples/gen/pam/v1/credential_service";
import { startPamServer, type PamServer } from "../examples/pam/server";
import { databaseUrlOf, rejects, startA2A, unique, type TestA2A } from "./helpers";

const LIST_RESOURCES = "/a2a.v1.AdminService/ListResources";
const LIST_APPLICATIONS = "/a2a.v1.AdminService/ListApplications";
const INVALID = /^invalid client credentials$/;

const keysOf = (c: Credentials): oauth1.OAuth1Keys => ({ consumerKey: c.clientId, consumerSecret: c.clientSecret, token: c.token, tokenSecret: c.tokenSecret });
const bytes = (req: Partial<ListResourcesRequest>) => Buffer.from(ListResourcesRequest.encode(ListResourcesRequest.fromPartial(req)).finish());
const md = (authorization: string) => {
  const m = new Metadata();
  m.set("authorization", authorization);
  return m;
};

describe("OAuth 1.0: signed calls to A2A and, through the guard, to PAM Core", function () {
  let a2a: TestA2A;
  let pam: PamServer;
  let admin: Credentials; // OAuth 1.0 keys with READ on "a2a"
  let erp: Credentials; // OAuth 1.0 keys with READ_WRITE on "pam-core"
  let raw: ReturnType<typeof createClient<typeof AdminServiceDefinition>>;

  before(async () => {
    a2a = await startA2A({ publicAuthorities: ["a2a.example.com"] });
    const { admin: api } = a2a.client;
    await api.createResource({ resource: { name: "pam-core" } });
    const pamApp = await api.createApplication({ application: { name: unique("PAM Core"), authMethod: AuthMethod.AUTH_METHOD_OAUTH2 } });
    const pamAuthz = await api.createAuthorization({
      authorization: { applicationId: pamApp.application!.id, grants: [{ resource: "pam-core", permission: Permission.PERMISSION_READ }], allowedIps: ["127.0.0.1"] },
    });
    pam = await startPamServer({ a2aAddress: a2a.address, account: pamAuthz.credentials! });
    const signer = await api.createApplication({ application: { name: unique("Legacy ERP (OAuth 1.0)"), authMethod: AuthMethod.AUTH_METHOD_OAUTH1 } });
    const create = async (resource: string, permission: Permission, extra = {}) =>
      (await api.createAuthorization({ authorization: { applicationId: signer.application!.id, grants: [{ resource, permission }], allowedIps: ["127.0.0.1/32"], ...extra } })).credentials!;
    admin = await create("a2a", Permission.PERMISSION_READ);
    erp = await create("pam-core", Permission.PERMISSION_READ_WRITE, { allowedReferers: ["https://erp.example.com"] });
    raw = createClient(AdminServiceDefinition, a2a.address);
  });

  after(async () => {
    raw?.close();
    await pam?.close();
    await a2a?.close();
  });

  it("an OAuth 1.0 authorization has four keys, shown on creation and by Reveal", async () => {
    assert.match(admin.clientId, /^a2a_ci_[0-9A-Za-z]{22}$/);
    assert.match(admin.clientSecret, /^a2a_cs_[0-9A-Za-z]{49}$/);
    assert.match(admin.token, /^a2a_ot_[0-9A-Za-z]{22}$/);
    assert.match(admin.tokenSecret, /^a2a_ts_[0-9A-Za-z]{49}$/);
    const { authorizations } = await a2a.client.admin.listAuthorizations({});
    const id = authorizations.find((a) => a.clientId === admin.clientId)!.id;
    const { credentials } = await a2a.client.admin.revealAuthorizationCredentials({ id });
    assert.deepEqual(credentials, admin);
  });

  it("A2A's own services accept OAuth 1.0 through the SDK (HMAC-SHA256 and HMAC-SHA1), each call signed afresh", async () => {
    for (const signatureMethod of ["HMAC-SHA256", "HMAC-SHA1"] as const) {
      const conn = connectA2A({ address: a2a.address, oauth1: keysOf(admin), signatureMethod });
      try {
        assert.equal(conn.tokens, undefined, "no token is involved");
        const first = await conn.admin.listResources({ pageSize: 10 });
        assert.ok(first.resources.some((r) => r.name === "pam-core"));
        await conn.admin.listResources({ pageSize: 10 }); // a new nonce each time
        await rejects(conn.admin.createResource({ resource: { name: unique("x") } }), status.PERMISSION_DENIED, /READ_WRITE|write/i);
      } finally {
        conn.close();
      }
    }
  });

  it("accepts requests signed by an independent library (oauth-1.0a from npm)", async () => {
    for (const method of ["HMAC-SHA1", "HMAC-SHA256"] as const) {
      const algorithm = method === "HMAC-SHA1" ? "sha1" : "sha256";
      const lib = new OAuth({
        consumer: { key: admin.clientId, secret: admin.clientSecret },
        signature_method: method,
        hash_function: (base, key) => require("node:crypto").createHmac(algorithm, key).update(base).digest("base64"),
        // The body is the protobuf message; the library passes it on as a latin1 string.
        body_hash_function: (data: string) => createHash(algorithm).update(Buffer.from(data, "latin1")).digest("base64"),
      });
      const body = bytes({ pageSize: 7 });
      const signed = lib.authorize({ url: `https://${a2a.address}${LIST_RESOURCES}`, method: "POST", data: body.toString("latin1"), includeBodyHash: true }, { key: admin.token, secret: admin.tokenSecret });
      const { Authorization } = lib.toHeader(signed);
      const page = await raw.listResources({ pageSize: 7 }, { metadata: md(Authorization) });
      assert.ok(page.resources.length > 0);
    }
  });

  describe("refusals: every credential failure is the same UNAUTHENTICATED", () => {
    const sign = (body: Buffer, options: { path?: string; authority?: string; now?: Date; nonce?: string; keys?: Partial<oauth1.OAuth1Keys> } = {}) =>
      oauth1.signCall({ ...keysOf(admin), ...options.keys }, { authority: options.authority ?? a2a.address, path: options.path ?? LIST_RESOURCES, body }, { now: options.now, nonce: options.nonce });

    it("a replayed request (same nonce) is refused the second time", async () => {
      const header = sign(bytes({ pageSize: 3 }));
      await raw.listResources({ pageSize: 3 }, { metadata: md(header) });
      await rejects(raw.listResources({ pageSize: 3 }, { metadata: md(header) }), status.UNAUTHENTICATED, INVALID);
    });

    it("a stale or future timestamp (beyond 300 s) is refused", async () => {
      const body = bytes({});
      await rejects(raw.listResources({}, { metadata: md(sign(body, { now: new Date(Date.now() - 301_000) })) }), status.UNAUTHENTICATED, INVALID);
      await rejects(raw.listResources({}, { metadata: md(sign(body, { now: new Date(Date.now() + 301_000) })) }), status.UNAUTHENTICATED, INVALID);
      await raw.listResources({}, { metadata: md(sign(body, { now: new Date(Date.now() - 290_000) })) });
    });

    it("a tampered request is refused: other method path, other body, other authority", async () => {
      const body = bytes({});
      await rejects(raw.listApplications({}, { metadata: md(sign(body, { path: LIST_RESOURCES })) }), status.UNAUTHENTICATED, INVALID);
      await rejects(raw.listResources({ pageSize: 2 }, { metadata: md(sign(bytes({ pageSize: 1 }))) }), status.UNAUTHENTICATED, INVALID);
      await rejects(raw.listResources({}, { metadata: md(sign(body, { authority: "other.example.com" })) }), status.UNAUTHENTICATED, INVALID);
      // The configured public authority (a proxy's name) is accepted.
      await raw.listResources({}, { metadata: md(sign(body, { authority: "A2A.example.com:443" })) });
      await raw.listApplications({}, { metadata: md(sign(body, { path: LIST_APPLICATIONS })) });
    });

    it("wrong keys are refused: consumer secret, token, token secret, unknown consumer", async () => {
      const body = bytes({});
      await rejects(raw.listResources({}, { metadata: md(sign(body, { keys: { consumerSecret: erp.clientSecret } })) }), status.UNAUTHENTICATED, INVALID);
      await rejects(raw.listResources({}, { metadata: md(sign(body, { keys: { token: erp.token } })) }), status.UNAUTHENTICATED, INVALID);
      await rejects(raw.listResources({}, { metadata: md(sign(body, { keys: { tokenSecret: erp.tokenSecret } })) }), status.UNAUTHENTICATED, INVALID);
      await rejects(raw.listResources({}, { metadata: md(sign(body, { keys: { consumerKey: "a2a_ci_0000000000000000000000" } })) }), status.UNAUTHENTICATED, INVALID);
      // OAuth 1.0 keys are not client credentials: Basic with the consumer key and secret fails too.
      const basic = `Basic ${Buffer.from(`${admin.clientId}:${admin.clientSecret}`).toString("base64")}`;
      await rejects(raw.listResources({}, { metadata: md(basic) }), status.UNAUTHENTICATED, INVALID);
    });

    it("a malformed header is INVALID_ARGUMENT naming the parameter", async () => {
      const header = sign(bytes({}));
      const nonce = header.match(/oauth_nonce="[^"]*"/)![0];
      await rejects(raw.listResources({}, { metadata: md(`${header}, ${nonce}`) }), status.INVALID_ARGUMENT, /^authorization\.oauth_nonce: appears more than once/);
      await rejects(raw.listResources({}, { metadata: md(header.replace(/, oauth_body_hash="[^"]*"/, "")) }), status.INVALID_ARGUMENT, /^authorization\.oauth_body_hash: is required/);
      await rejects(raw.listResources({}, { metadata: md(header.replace("HMAC-SHA256", "HMAC-MD5")) }), status.INVALID_ARGUMENT, /^authorization\.oauth_signature_method: "HMAC-MD5" is not supported/);
      await rejects(raw.listResources({}, { metadata: md(header.replace('oauth_version="1.0"', 'oauth_version="2.0"')) }), status.INVALID_ARGUMENT, /^authorization\.oauth_version: must be "1\.0"/);
      await rejects(raw.listResources({}, { metadata: md(header.replace(/oauth_timestamp="\d+"/, 'oauth_timestamp="soon"')) }), status.INVALID_ARGUMENT, /^authorization\.oauth_timestamp: must be whole seconds/);
      await rejects(raw.listResources({}, { metadata: md("OAuth oauth_consumer_key=unquoted") }), status.INVALID_ARGUMENT, /^authorization: cannot read the parameter list/);
    });
  });

  describe("PAM Core behind the guard, which asks A2A (Authorize)", () => {
    const erpClient = (referer = "https://erp.example.com") =>
      connectPam({ a2aAddress: a2a.address, pamAddress: pam.address, referer, oauth1: keysOf(erp) });
    const pamRaw = () => createClient(CredentialServiceDefinition, pam.address);

    it("the ERP reads and writes with its OAuth 1.0 keys; the guard names the caller", async () => {
      const c = erpClient();
      try {
        const { credentials } = await c.pam.listCredentials({});
        assert.ok(credentials.length >= 2);
        const { credential } = await c.pam.updateCredential({ id: "cred-bank", username: "svc_bank_oauth1" });
        assert.equal(credential?.username, "svc_bank_oauth1");
        assert.equal(pam.credentials.get("cred-bank")?.updatedBy, erp.clientId);
      } finally {
        c.close();
      }
    });

    it("policy still applies: a referer outside the authorization's list is PERMISSION_DENIED", async () => {
      const c = erpClient("https://evil.example.net");
      try {
        await rejects(c.pam.listCredentials({}), status.PERMISSION_DENIED, /referer/);
      } finally {
        c.close();
      }
    });

    it("replayed, tampered and wrongly keyed calls are refused by the guard", async () => {
      const client = pamRaw();
      const withReferer = (h: string) => {
        const m = md(h);
        m.set("referer", "https://erp.example.com");
        return { metadata: m };
      };
      const listBody = Buffer.from(ListCredentialsRequest.encode({}).finish());
      const sign = (body: Buffer, path = "/pam.v1.CredentialService/ListCredentials", keys = keysOf(erp)) =>
        oauth1.signCall(keys, { authority: pam.address, path, body });
      try {
        const header = sign(listBody);
        await client.listCredentials({}, withReferer(header));
        await rejects(client.listCredentials({}, withReferer(header)), status.UNAUTHENTICATED, INVALID);
        const update = { id: "cred-sap", username: "attacker" };
        const signedOther = sign(Buffer.from(UpdateCredentialRequest.encode({ id: "cred-sap", username: "svc_sap" }).finish()), "/pam.v1.CredentialService/UpdateCredential");
        await rejects(client.updateCredential(update, withReferer(signedOther)), status.UNAUTHENTICATED, INVALID);
        await rejects(client.updateCredential(update, withReferer(sign(listBody))), status.UNAUTHENTICATED, INVALID);
        await rejects(client.listCredentials({}, withReferer(sign(listBody, undefined, { ...keysOf(erp), tokenSecret: admin.tokenSecret }))), status.UNAUTHENTICATED, INVALID);
        // Keys valid at A2A but without a grant on pam-core.
        await rejects(client.listCredentials({}, withReferer(sign(listBody, undefined, keysOf(admin)))), status.PERMISSION_DENIED, /pam-core/);
        assert.notEqual(pam.credentials.get("cred-sap")?.username, "attacker");
      } finally {
        client.close();
      }
    });

    it("Authorize is only for the resource's own servers, and checks its input", async () => {
      const conn = connectA2A({ address: a2a.address, oauth1: keysOf(admin) });
      const ask = {
        method: "/pam.v1.CredentialService/ListCredentials", authority: pam.address, authorization: "OAuth x", bodySha1: Buffer.alloc(20),
        bodySha256: Buffer.alloc(32), peerIp: "127.0.0.1", referer: "", resource: "pam-core", permission: Permission.PERMISSION_READ,
      };
      try {
        // admin has READ on a2a: it may ask. ERP keys have no grant... on a2a, but do on pam-core.
        const decided = await conn.token.authorize(ask);
        assert.equal(decided.allowed, false);
        assert.equal(decided.code, status.INVALID_ARGUMENT);
        await rejects(conn.token.authorize({ ...ask, resource: "Bad Name" }), status.INVALID_ARGUMENT, /^resource: /);
        await rejects(conn.token.authorize({ ...ask, bodySha256: Buffer.alloc(3) }), status.INVALID_ARGUMENT, /^body_sha256: must be the 32-byte SHA-256/);
        await rejects(conn.token.authorize({ ...ask, peerIp: "10.0.0.0/8" }), status.INVALID_ARGUMENT, /^peer_ip: /);
        await rejects(conn.token.authorize({ ...ask, permission: Permission.PERMISSION_UNSPECIFIED }), status.INVALID_ARGUMENT, /^permission: is required/);
      } finally {
        conn.close();
      }
      const unrelated = connectA2A({ address: a2a.address, oauth1: keysOf(erp), metadata: { referer: "https://erp.example.com" } });
      try {
        await rejects(unrelated.token.authorize({ ...ask, resource: "a2a" }), status.PERMISSION_DENIED, /no grant on "a2a"/);
      } finally {
        unrelated.close();
      }
    });
  });

  // Nested suites run after the tests above: this one reads what all of them left behind.
  describe("the trail", () => {
  it("everything is audited under the signing client, with reasons, and no secret or signature anywhere", async () => {
    const events = await a2a.server.database.knex("audit_events").where({ client_id: admin.clientId }).select("method", "status_code", "error");
    assert.ok(events.some((e) => e.method === LIST_RESOURCES && e.status_code === 0));
    for (const reason of ["oauth_nonce already used (replay)", "bad oauth_signature", "wrong oauth_token", "oauth_timestamp is"]) {
      assert.ok(events.some((e) => e.status_code === status.UNAUTHENTICATED && String(e.error).includes(reason)), `a refusal recorded with "${reason}"`);
    }
    const decisions = await a2a.server.database.knex("audit_events").where({ method: "/a2a.v1.TokenService/Authorize", client_id: erp.clientId }).select("status_code", "resource", "target", "error");
    assert.ok(decisions.some((d) => d.status_code === 0 && d.resource === "pam-core" && /ListCredentials/.test(d.target)));
    assert.ok(decisions.some((d) => d.status_code === status.UNAUTHENTICATED && /replay/.test(d.error)));
    assert.ok(decisions.some((d) => d.status_code === status.PERMISSION_DENIED && /referer/.test(d.error)));

    // One more signed call, accepted, and one refused: their signatures must not be kept.
    const header = oauth1.signCall(keysOf(admin), { authority: a2a.address, path: LIST_RESOURCES, body: bytes({}) });
    await raw.listResources({}, { metadata: md(header) });
    await rejects(raw.listResources({}, { metadata: md(header) }), status.UNAUTHENTICATED);
    const signature = decodeURIComponent(header.match(/oauth_signature="([^"]+)"/)![1]);

    const table = JSON.stringify(await a2a.server.database.knex("audit_events").select());
    const logs = a2a.logs();
    for (const secret of [admin.clientSecret, admin.tokenSecret, erp.clientSecret, erp.tokenSecret, signature, 'oauth_signature="', "OAuth oauth_"]) {
      assert.ok(!table.includes(secret), `audit table holds ${secret.slice(0, 12)}…`);
      assert.ok(!logs.includes(secret), `logs hold ${secret.slice(0, 12)}…`);
    }
  });

  it("the nonce store is shared: a second A2A node on the same PostgreSQL refuses a replay", async function () {
    if (!process.env.DATABASE_URL) {
      console.log("      SKIPPED: needs DATABASE_URL (the embedded store is one process)");
      return this.skip();
    }
    const second = await startA2A({ databaseUrl: databaseUrlOf(a2a) });
    const other = createClient(AdminServiceDefinition, second.address);
    try {
      const body = bytes({});
      const keys = keysOf(admin);
      const nonce = `shared-${Date.now()}`;
      await raw.listResources({}, { metadata: md(oauth1.signCall(keys, { authority: a2a.address, path: LIST_RESOURCES, body }, { nonce })) });
      await rejects(other.listResources({}, { metadata: md(oauth1.signCall(keys, { authority: second.address, path: LIST_RESOURCES, body }, { nonce })) }), status.UNAUTHENTICATED, INVALID);
      // The same keys with a fresh nonce work on the second node: it was the nonce.
      await other.listResources({}, { metadata: md(oauth1.signCall(keys, { authority: second.address, path: LIST_RESOURCES, body })) });
    } finally {
      other.close();
      await second.close();
    }
  });
  });
});


