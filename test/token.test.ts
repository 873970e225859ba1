import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { createLocalJWKSet, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { AuthMethod, createClient, Permission, TokenServiceDefinition, AdminServiceDefinition, bearerAuth, staticToken } from "@a2a/sdk";
import { freshDatabase, rejects, startA2A, unique, type TestA2A } from "./helpers";

describe("TokenService", function () {
  let a2a: TestA2A;
  let appId: string;
  let rw: { clientId: string; clientSecret: string; id: string };
  const token = () => a2a.client.token;
  const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}` });

  async function authorize(grants: { resource: string; permission: Permission }[], extra: Record<string, unknown> = {}, applicationId = appId) {
    const { credentials, authorization } = await a2a.client.admin.createAuthorization({ authorization: { applicationId, grants, allowedIps: ["*"], ...extra } });
    return { ...credentials!, id: authorization!.id };
  }

  before(async () => {
    a2a = await startA2A();
    await a2a.client.admin.createResource({ resource: { name: "pam-core" } });
    await a2a.client.admin.createResource({ resource: { name: "billing" } });
    appId = (await a2a.client.admin.createApplication({ application: { name: unique("svc"), authMethod: AuthMethod.AUTH_METHOD_OAUTH2 } })).application!.id;
    rw = await authorize([{ resource: "pam-core", permission: Permission.PERMISSION_READ_WRITE }, { resource: "billing", permission: Permission.PERMISSION_READ }]);
  });
  after(() => a2a?.close());

  const issue = (clientId: string, clientSecret: string, extra: Record<string, string> = {}) =>
    token().issueToken({ grantType: "client_credentials", clientId, clientSecret, ...extra });

  it("issues an Ed25519 JWT (RFC 9068) that verifies against GetJwks", async () => {
    const t = await issue(rw.clientId, rw.clientSecret);
    assert.equal(t.tokenType, "Bearer");
    assert.equal(t.expiresIn, 3600);
    assert.equal(t.scope, "billing:read pam-core:write");
    const header = decodeProtectedHeader(t.accessToken);
    assert.equal(header.alg, "EdDSA");
    assert.equal(header.typ, "at+jwt");
    const { keys } = await token().getJwks({});
    assert.ok(keys.some((k) => k.kid === header.kid && k.kty === "OKP" && k.crv === "Ed25519" && k.use === "sig"));
    assert.ok(keys.every((k) => !("d" in k)), "no private half published");
    const { payload } = await jwtVerify(t.accessToken, createLocalJWKSet({ keys: keys.map((k) => ({ ...k })) }), { issuer: "a2a", audience: "pam-core" });
    assert.equal(payload.sub, rw.clientId);
    assert.equal(payload.client_id, rw.clientId);
    assert.equal(payload.authorization_id, rw.id);
    assert.deepEqual([...(payload.aud as string[])].sort(), ["billing", "pam-core"]);
    assert.equal(payload.exp! - payload.iat!, 3600);
    assert.ok(payload.jti);
  });

  it("every credential failure answers the same UNAUTHENTICATED message", async () => {
    const disabledAuthz = await authorize([{ resource: "pam-core", permission: 1 }], { enabled: false });
    const expired = await authorize([{ resource: "pam-core", permission: 1 }], { expiresAt: new Date("2025-01-30T21:00:00Z") });
    const otherApp = (await a2a.client.admin.createApplication({ application: { name: unique("off"), authMethod: AuthMethod.AUTH_METHOD_OAUTH2, enabled: false } })).application!.id;
    const disabledApp = await authorize([{ resource: "pam-core", permission: 1 }], {}, otherApp);
    const other = await authorize([{ resource: "pam-core", permission: 1 }]);
    const attempts = [
      issue("a2a_ci_doesnotexist0000000000", rw.clientSecret),
      issue(rw.clientId, "wrong"),
      issue(rw.clientId, other.clientSecret), // well-formed, but another authorization's
      issue(rw.clientId, rw.clientSecret.slice(0, -1) + (rw.clientSecret.endsWith("A") ? "B" : "A")),
      issue(disabledAuthz.clientId, disabledAuthz.clientSecret),
      issue(expired.clientId, expired.clientSecret),
      issue(disabledApp.clientId, disabledApp.clientSecret),
      issue("x".repeat(5000), "y"),
    ];
    const messages = new Set<string>();
    for (const attempt of attempts) messages.add((await rejects(attempt, status.UNAUTHENTICATED)).details);
    assert.deepEqual([...messages], ["invalid client credentials"]);
    // The trail keeps the reason the caller is not told.
    const { events } = await a2a.client.audit.listAuditEvents({ method: "IssueToken", failuresOnly: true, pageSize: 20 });
    const reasons = events.map((e) => e.error).join("\n");
    for (const r of ["unknown client_id", "wrong client_secret", "authorization_disabled", "expired", "application_disabled"]) assert.match(reasons, new RegExp(r));
  });

  it("refuses malformed token requests with INVALID_ARGUMENT naming the field", async () => {
    await rejects(token().issueToken({ clientId: rw.clientId, clientSecret: rw.clientSecret }), status.INVALID_ARGUMENT, /^grant_type: is required/);
    await rejects(token().issueToken({ grantType: "password", clientId: rw.clientId, clientSecret: rw.clientSecret }), status.INVALID_ARGUMENT, /^grant_type: "password" is not supported/);
    await rejects(token().issueToken({ grantType: "client_credentials", clientId: rw.clientId }), status.INVALID_ARGUMENT, /^client_secret: is required/);
    await rejects(token().issueToken({ grantType: "client_credentials" }), status.INVALID_ARGUMENT, /^client_id: is required/);
    await rejects(issue(rw.clientId, rw.clientSecret, { scope: "pam-core:admin" }), status.INVALID_ARGUMENT, /^scope: "pam-core:admin" is not a scope item/);
  });

  it("accepts Basic client authentication (RFC 6749 §2.3.1), but not both ways at once", async () => {
    const bare = createClient(TokenServiceDefinition, a2a.address);
    try {
      const t = await bare.issueToken({ grantType: "client_credentials" }, { metadata: basic(rw.clientId, rw.clientSecret) });
      assert.ok(t.accessToken);
      await rejects(bare.issueToken({ grantType: "client_credentials" }, { metadata: basic(rw.clientId, "nope") }), status.UNAUTHENTICATED, /^invalid client credentials$/);
      await rejects(bare.issueToken({ grantType: "client_credentials", clientId: rw.clientId, clientSecret: rw.clientSecret }, { metadata: basic(rw.clientId, rw.clientSecret) }), status.INVALID_ARGUMENT, /not both/);
    } finally {
      bare.close();
    }
  });

  it("narrows a token to the requested scope; refuses a scope not granted", async () => {
    const t = await issue(rw.clientId, rw.clientSecret, { scope: "pam-core:read" });
    assert.equal(t.scope, "pam-core:read");
    const info = await token().introspectToken({ token: t.accessToken });
    assert.deepEqual(info.aud, ["pam-core"]);
    assert.deepEqual(info.grants, [{ resource: "pam-core", permission: Permission.PERMISSION_READ }]);
    await rejects(issue(rw.clientId, rw.clientSecret, { scope: "billing:write" }), status.PERMISSION_DENIED, /"billing:write" is not granted/);
    await rejects(issue(rw.clientId, rw.clientSecret, { scope: "a2a:read" }), status.PERMISSION_DENIED);
  });

  it("a token never outlives its authorization", async () => {
    const soon = new Date(Date.now() + 120_000);
    const short = await authorize([{ resource: "pam-core", permission: 1 }], { expiresAt: soon });
    const t = await issue(short.clientId, short.clientSecret);
    assert.ok(t.expiresIn <= 120 && t.expiresIn >= 118, `expires_in ${t.expiresIn}`);
  });

  describe("IntrospectToken (RFC 7662)", () => {
    it("reports an active token with its current grants and rules to an administrator", async () => {
      const t = await issue(rw.clientId, rw.clientSecret);
      const info = await token().introspectToken({ token: t.accessToken });
      assert.equal(info.active, true);
      assert.equal(info.clientId, rw.clientId);
      assert.equal(info.authorizationId, rw.id);
      assert.equal(info.applicationId, appId);
      assert.deepEqual(info.allowedIps, ["*"]);
      assert.equal(info.tokenType, "Bearer");
      assert.ok(info.exp > info.iat);
    });

    it("answers only active:false for garbage, a foreign signature, or a token the caller may not see", async () => {
      const inactive = { active: false, clientId: "", scope: "" };
      const pick = (r: { active: boolean; clientId: string; scope: string }) => ({ active: r.active, clientId: r.clientId, scope: r.scope });
      assert.deepEqual(pick(await token().introspectToken({ token: "garbage" })), inactive);
      // Same claims, signed by a key A2A does not know.
      const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
      const t = await issue(rw.clientId, rw.clientSecret);
      const header = decodeProtectedHeader(t.accessToken);
      const forged = await new SignJWT({ client_id: rw.clientId, authorization_id: rw.id, scope: "pam-core:write" })
        .setProtectedHeader({ alg: "EdDSA", kid: header.kid, typ: "at+jwt" })
        .setIssuer("a2a").setSubject(rw.clientId).setAudience("pam-core").setIssuedAt().setExpirationTime("1h").setJti("forged").sign(privateKey);
      assert.deepEqual(pick(await token().introspectToken({ token: forged })), inactive);
      // A client with no grant on the token's audience cannot look at another client's token.
      const stranger = await authorize([{ resource: "billing", permission: 1 }]);
      const own = await issue(stranger.clientId, stranger.clientSecret);
      const peek = createClient(TokenServiceDefinition, a2a.address, { interceptors: [bearerAuth(staticToken(own.accessToken))] });
      try {
        const scoped = await issue(rw.clientId, rw.clientSecret, { scope: "pam-core:read" });
        assert.deepEqual(pick(await peek.introspectToken({ token: scoped.accessToken })), inactive);
        assert.equal((await peek.introspectToken({ token: own.accessToken })).active, true, "its own token");
        // A resource server granted "billing" may introspect tokens whose audience has billing.
        assert.equal((await peek.introspectToken({ token: t.accessToken })).active, true);
        await rejects(peek.introspectToken({ token: "" }), status.INVALID_ARGUMENT, /^token: is required/);
      } finally {
        peek.close();
      }
      // Callers must authenticate.
      const anon = createClient(TokenServiceDefinition, a2a.address);
      await rejects(anon.introspectToken({ token: t.accessToken }), status.UNAUTHENTICATED, /missing credentials/);
      anon.close();
    });
  });

  describe("RevokeToken (RFC 7009)", () => {
    it("a client revokes its own token; A2A refuses it at once", async () => {
      const admin = await authorize([{ resource: "a2a", permission: Permission.PERMISSION_READ }]);
      const t = await issue(admin.clientId, admin.clientSecret);
      const asAdmin = createClient(AdminServiceDefinition, a2a.address, { interceptors: [bearerAuth(staticToken(t.accessToken))] });
      const tokens = createClient(TokenServiceDefinition, a2a.address, { interceptors: [bearerAuth(staticToken(t.accessToken))] });
      try {
        await asAdmin.listResources({});
        await tokens.revokeToken({ token: t.accessToken });
        await rejects(asAdmin.listResources({}), status.UNAUTHENTICATED, /^invalid access token$/);
        assert.equal((await token().introspectToken({ token: t.accessToken })).active, false);
      } finally {
        asAdmin.close();
        tokens.close();
      }
    });

    it("another client's token: PERMISSION_DENIED; an administrator may; garbage is not an error", async () => {
      const victim = await issue(rw.clientId, rw.clientSecret);
      const other = await authorize([{ resource: "billing", permission: 1 }]);
      const t = await issue(other.clientId, other.clientSecret);
      const c = createClient(TokenServiceDefinition, a2a.address, { interceptors: [bearerAuth(staticToken(t.accessToken))] });
      try {
        await rejects(c.revokeToken({ token: victim.accessToken }), status.PERMISSION_DENIED, /not issued to this client/);
        assert.equal((await token().introspectToken({ token: victim.accessToken })).active, true);
        await c.revokeToken({ token: "not-a-token" });
      } finally {
        c.close();
      }
      await token().revokeToken({ token: victim.accessToken });
      assert.equal((await token().introspectToken({ token: victim.accessToken })).active, false);
    });
  });

  describe("admin access is itself protected by A2A", () => {
    it("READ on a2a may list but not change; no a2a grant may do neither; Basic works too", async () => {
      const reader = await authorize([{ resource: "a2a", permission: Permission.PERMISSION_READ }]);
      const t = await issue(reader.clientId, reader.clientSecret);
      const asReader = createClient(AdminServiceDefinition, a2a.address, { interceptors: [bearerAuth(staticToken(t.accessToken))] });
      const anon = createClient(AdminServiceDefinition, a2a.address);
      try {
        assert.ok((await asReader.listApplications({})).applications.length >= 1);
        await rejects(asReader.createResource({ resource: { name: unique("r") } }), status.PERMISSION_DENIED, /does not grant read-write access to resource "a2a"/);
        await rejects(asReader.revealAuthorizationCredentials({ id: rw.id }), status.PERMISSION_DENIED);
        const nonAdmin = await issue(rw.clientId, rw.clientSecret);
        await rejects(anon.listApplications({}, { metadata: { authorization: `Bearer ${nonAdmin.accessToken}` } }), status.PERMISSION_DENIED, /read access to resource "a2a"/);
        await rejects(anon.listApplications({}), status.UNAUTHENTICATED, /missing credentials/);
        await rejects(anon.listApplications({}, { metadata: { authorization: "Bearer x.y.z" } }), status.UNAUTHENTICATED, /^invalid access token$/);
        await rejects(anon.listApplications({}, { metadata: { authorization: "Digest abc" } }), status.UNAUTHENTICATED, /missing credentials/);
        assert.ok((await anon.listApplications({}, { metadata: basic(a2a.admin.client_id, a2a.admin.client_secret) })).applications.length >= 1);
        await rejects(anon.listApplications({}, { metadata: basic(a2a.admin.client_id, "wrong") }), status.UNAUTHENTICATED, /^invalid client credentials$/);
      } finally {
        asReader.close();
        anon.close();
      }
    });
  });
});

describe("TokenService: configuration", function () {
  it("honours the token lifetime and can switch off revealing credentials", async () => {
    const a2a = await startA2A({ tokenTtlSeconds: 120, allowReveal: false });
    try {
      const { admin } = a2a.client;
      const t = await a2a.client.token.issueToken({ grantType: "client_credentials", clientId: a2a.admin.client_id, clientSecret: a2a.admin.client_secret });
      assert.equal(t.expiresIn, 120);
      await rejects(admin.revealAuthorizationCredentials({ id: a2a.admin.authorization_id }), status.PERMISSION_DENIED, /switched off/);
      const { events } = await a2a.client.audit.listAuditEvents({ method: "RevealAuthorizationCredentials" });
      assert.equal(events[0].statusCode, status.PERMISSION_DENIED);
    } finally {
      await a2a.close();
    }
  });

  it("signing keys persist in the store: a restarted server verifies the tokens it issued", async function () {
    // The in-memory store does not outlive its server; test/main.test.ts restarts on disk.
    if (!process.env.DATABASE_URL) return this.skip();
    const db = await freshDatabase();
    try {
      const first = await startA2A({ databaseUrl: db.url });
      const t = await first.client.token.issueToken({ grantType: "client_credentials", clientId: first.admin.client_id, clientSecret: first.admin.client_secret });
      await first.close();
      const second = await startA2A({ databaseUrl: db.url });
      try {
        assert.equal(second.server.bootstrap, undefined, "no second administrator bootstrap");
        assert.equal((await second.client.token.introspectToken({ token: t.accessToken })).active, true);
      } finally {
        await second.close();
      }
    } finally {
      await db.drop();
    }
  });
});
