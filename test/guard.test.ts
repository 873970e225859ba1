import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { generateKeyPair, SignJWT } from "jose";
import { AuthMethod, createClient, Permission, TokenServiceDefinition } from "@a2a/sdk";
import { CredentialServiceDefinition } from "../examples/gen/pam/v1/credential_service";
import { startPamServer, type PamServer } from "../examples/pam/server";
import { rejects, sleep, startA2A, unique, type TestA2A } from "./helpers";

describe("guard: token verification against A2A's JWKS", function () {
  let a2a: TestA2A;
  let pam: PamServer;
  let appId: string;

  before(async () => {
    a2a = await startA2A();
    await a2a.client.admin.createResource({ resource: { name: "pam-core" } });
    appId = (await a2a.client.admin.createApplication({ application: { name: unique("ERP"), authMethod: AuthMethod.AUTH_METHOD_OAUTH2 } })).application!.id;
    pam = await startPamServer({ a2aAddress: a2a.address });
  });
  after(async () => {
    await pam?.close();
    await a2a?.close();
  });

  async function tokenFor(extra: Record<string, unknown> = {}) {
    const { credentials } = await a2a.client.admin.createAuthorization({
      authorization: { applicationId: appId, grants: [{ resource: "pam-core", permission: Permission.PERMISSION_READ }], allowedIps: ["*"], ...extra },
    });
    const t = createClient(TokenServiceDefinition, a2a.address);
    const { accessToken } = await t.issueToken({ grantType: "client_credentials", ...credentials! });
    t.close();
    return accessToken;
  }

  const jwksFetches = async () => (await a2a.client.audit.listAuditEvents({ method: "GetJwks", pageSize: 1000 })).events.length;
  const call = (token: string) => {
    const c = createClient(CredentialServiceDefinition, pam.address);
    return c.listCredentials({}, { metadata: { authorization: `Bearer ${token}` } }).finally(() => c.close());
  };

  it("fetches the keys once, refetches on an unknown kid, at most once a second", async () => {
    const real = await tokenFor();
    assert.equal((await call(real)).credentials.length, 2);
    assert.equal((await call(real)).credentials.length, 2);
    assert.equal(await jwksFetches(), 1, "cached after the first fetch");

    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const forge = (kid: string) =>
      new SignJWT({ client_id: "a2a_ci_forged", scope: "pam-core:write", allowed_ips: ["*"], allowed_referers: [] })
        .setProtectedHeader({ alg: "EdDSA", kid, typ: "at+jwt" })
        .setIssuer("a2a").setSubject("a2a_ci_forged").setAudience("pam-core").setIssuedAt().setExpirationTime("1h").setJti("f")
        .sign(privateKey);
    await sleep(1100);
    await rejects(call(await forge("unknown-kid")), status.UNAUTHENTICATED, /^invalid access token$/);
    assert.equal(await jwksFetches(), 2, "an unknown kid made the guard fetch again");
    await rejects(call(await forge("another-unknown-kid")), status.UNAUTHENTICATED, /^invalid access token$/);
    assert.equal(await jwksFetches(), 2, "but not again within a second");

    // A known kid with a signature from another key, and a tampered payload.
    const kid = JSON.parse(Buffer.from(real.split(".")[0], "base64url").toString()).kid;
    await rejects(call(await forge(kid)), status.UNAUTHENTICATED, /^invalid access token$/);
    const [h, p, s] = real.split(".");
    const payload = JSON.parse(Buffer.from(p, "base64url").toString());
    payload.scope = "pam-core:write";
    await rejects(call(`${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}`), status.UNAUTHENTICATED);
  });

  it("refuses a token once it has expired, without asking A2A", async () => {
    const shortLived = await tokenFor({ expiresAt: new Date(Date.now() + 2000) });
    assert.equal((await call(shortLived)).credentials.length, 2);
    await sleep(2100);
    await rejects(call(shortLived), status.UNAUTHENTICATED, /^invalid access token$/);
  });
});
