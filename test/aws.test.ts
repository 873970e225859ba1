import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { AuthMethod, AwsIamTokenSource, connectA2A, createClient, Permission, signGetCallerIdentity, TokenServiceDefinition, type AwsSignedRequest } from "@a2a/sdk";
import { connectPam } from "../examples/erp/client";
import { startPamServer, type PamServer } from "../examples/pam/server";
import { canonicalArn, arnMatches } from "../src/auth/aws-iam";
import { rejects, startA2A, unique, type TestA2A } from "./helpers";
import { startStsStandIn, TEST_KEY, type StsStandIn } from "./support/sts";

const SERVER_ID = "a2a-test.example.com";
const INVALID = /^invalid client credentials$/;
/** The ERP's EC2 instance role session, as STS names it. */
const ERP_SESSION = "arn:aws:sts::123456789012:assumed-role/erp-finance/i-0abc123";
const INTRUDER = { accessKeyId: "AKIDINTRUDER00000000", secretAccessKey: "intruderSecretKey/EXAMPLE0000000000000000" };
const SESSION = { ...TEST_KEY, sessionToken: "FwoGZXIvYXdzEXAMPLEsessionTOKEN/with+chars==" };

describe("AWS IAM: workloads authenticate with their AWS identity, no A2A secret", function () {
  let sts: StsStandIn;
  let a2a: TestA2A;
  let pam: PamServer;
  let erpClientId: string;
  let adminClientId: string;
  let oauth2ClientId: string;
  let token: ReturnType<typeof createClient<typeof TokenServiceDefinition>>;

  const aws = (clientId: string, awsCredentials: typeof TEST_KEY | typeof SESSION = TEST_KEY, serverId = SERVER_ID) =>
    ({ clientId, serverId, stsEndpoint: sts.endpoint, awsCredentials });

  /** Signs any STS request with the AWS SDK's signer, for the attacks the SDK would never make. */
  async function signRaw(options: { body?: string; headers?: Record<string, string>; signingDate?: Date; credentials?: typeof TEST_KEY } = {}): Promise<AwsSignedRequest> {
    const url = new URL(sts.endpoint);
    const signer = new SignatureV4({ credentials: options.credentials ?? TEST_KEY, region: "us-east-1", service: "sts", sha256: Hash.bind(null, "sha256") });
    const body = options.body ?? "Action=GetCallerIdentity&Version=2011-06-15";
    const request = new HttpRequest({
      method: "POST", protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: "/",
      headers: { host: url.host, "content-type": "application/x-www-form-urlencoded; charset=utf-8", ...(options.headers ?? { "x-a2a-server-id": SERVER_ID }) },
      body,
    });
    const signed = await signer.sign(request, { signingDate: options.signingDate });
    return { method: "POST", url: `${sts.endpoint}/`, headers: Object.entries(signed.headers).map(([name, value]) => ({ name, value: String(value) })), body: Buffer.from(body) };
  }
  const issue = (clientId: string, awsRequest: AwsSignedRequest | undefined) => token.issueToken({ grantType: "aws_iam", clientId, awsRequest });

  before(async () => {
    sts = await startStsStandIn({
      [TEST_KEY.accessKeyId]: { secretAccessKey: TEST_KEY.secretAccessKey, arn: ERP_SESSION },
      [INTRUDER.accessKeyId]: { secretAccessKey: INTRUDER.secretAccessKey, arn: "arn:aws:iam::210987654321:user/intruder" },
    });
    a2a = await startA2A({ awsStsEndpoint: sts.endpoint, awsServerId: SERVER_ID, awsStsTimeoutMs: 1000 });
    const { admin } = a2a.client;
    await admin.createResource({ resource: { name: "pam-core" } });
    const pamApp = await admin.createApplication({ application: { name: unique("PAM Core"), authMethod: AuthMethod.AUTH_METHOD_OAUTH2 } });
    const pamAuthz = await admin.createAuthorization({
      authorization: { applicationId: pamApp.application!.id, grants: [{ resource: "pam-core", permission: Permission.PERMISSION_READ }], allowedIps: ["127.0.0.1"] },
    });
    oauth2ClientId = pamAuthz.credentials!.clientId;
    pam = await startPamServer({ a2aAddress: a2a.address, introspection: { ...pamAuthz.credentials!, cacheMs: 100 } });
    token = createClient(TokenServiceDefinition, a2a.address);
  });

  after(async () => {
    token?.close();
    await pam?.close();
    await a2a?.close();
    await sts?.close();
  });

  it("the administrator adds an AWS application with role ARNs; its authorizations carry no secret", async () => {
    const { application } = await a2a.client.admin.createApplication({
      application: { name: unique("ERP on EC2"), authMethod: AuthMethod.AUTH_METHOD_AWS, awsArns: ["arn:aws:iam::123456789012:role/erp-*"] },
    });
    const created = await a2a.client.admin.createAuthorization({
      authorization: { applicationId: application!.id, grants: [{ resource: "pam-core", permission: Permission.PERMISSION_READ_WRITE }], allowedIps: ["127.0.0.1/32"] },
    });
    assert.deepEqual(created.credentials, { clientId: created.credentials!.clientId, clientSecret: "", token: "", tokenSecret: "" });
    erpClientId = created.credentials!.clientId;
    const revealed = await a2a.client.admin.revealAuthorizationCredentials({ id: created.authorization!.id });
    assert.deepEqual(revealed.credentials, created.credentials);
    const adminAuthz = await a2a.client.admin.createAuthorization({
      authorization: { applicationId: application!.id, grants: [{ resource: "a2a", permission: Permission.PERMISSION_READ }], allowedIps: ["*"] },
    });
    adminClientId = adminAuthz.credentials!.clientId;
  });

  it("the ERP calls PAM Core through the SDK: the AWS SDK signs, A2A asks STS, the token is cached", async () => {
    const c = connectPam({ a2aAddress: a2a.address, pamAddress: pam.address, aws: aws(erpClientId) });
    try {
      const before = sts.calls;
      const { credentials } = await c.pam.listCredentials({});
      assert.ok(credentials.length >= 2);
      await c.pam.updateCredential({ id: "cred-sap", username: "svc_sap_aws" });
      assert.equal(pam.credentials.get("cred-sap")?.updatedBy, erpClientId);
      assert.equal(c.tokens!.fetches, 1);
      assert.equal(sts.calls - before, 1, "one STS call for one token");
    } finally {
      c.close();
    }
  });

  it("temporary credentials work too: the session token is signed and forwarded", async () => {
    const source = new AwsIamTokenSource({ address: a2a.address, ...aws(erpClientId, SESSION) });
    try {
      assert.ok((await source.getToken()).split(".").length === 3);
    } finally {
      source.close();
    }
  });

  it("A2A's own services accept the AWS method", async () => {
    const conn = connectA2A({ address: a2a.address, aws: aws(adminClientId) });
    try {
      const { resources } = await conn.admin.listResources({});
      assert.ok(resources.some((r) => r.name === "pam-core"));
    } finally {
      conn.close();
    }
  });

  it("an identity outside the application's ARNs is refused like a wrong secret", async () => {
    await rejects(issue(erpClientId, await signGetCallerIdentity({ serverId: SERVER_ID, stsEndpoint: sts.endpoint, awsCredentials: INTRUDER })), status.UNAUTHENTICATED, INVALID);
  });

  it("STS refusing the signature is UNAUTHENTICATED: tampered after signing, expired, unknown key", async () => {
    const tampered = await signRaw();
    // One second later in x-amz-date: still fresh, but no longer what was signed.
    const bump = (v: string) => `${v.slice(0, -2)}${(Number(v.at(-2)) + 1) % 10}Z`;
    tampered.headers = tampered.headers.map((h) => (h.name === "x-amz-date" ? { ...h, value: bump(h.value) } : h));
    await rejects(issue(erpClientId, tampered), status.UNAUTHENTICATED, INVALID);
    await rejects(issue(erpClientId, await signRaw({ signingDate: new Date(Date.now() - 20 * 60 * 1000) })), status.UNAUTHENTICATED, INVALID);
    await rejects(issue(erpClientId, await signRaw({ credentials: { accessKeyId: "AKIDUNKNOWN000000000", secretAccessKey: "x" } })), status.UNAUTHENTICATED, INVALID);
  });

  it("only what Vault-style AWS auth allows is sent: GetCallerIdentity, to the configured STS, with the server id signed", async () => {
    const calls = sts.calls;
    const assumeRole = await signRaw({ body: "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/admin&RoleSessionName=x" });
    await rejects(issue(erpClientId, assumeRole), status.INVALID_ARGUMENT, /^aws_request\.body: only "Action=GetCallerIdentity&Version=2011-06-15" is accepted/);
    await rejects(issue(erpClientId, await signRaw({ headers: {} })), status.INVALID_ARGUMENT, /^aws_request\.headers: the header "x-a2a-server-id" is required and must be signed/);
    const unsigned = await signRaw({ headers: {} });
    unsigned.headers.push({ name: "X-A2A-Server-Id", value: SERVER_ID });
    await rejects(issue(erpClientId, unsigned), status.INVALID_ARGUMENT, /x-a2a-server-id" is required and must be signed/);
    await rejects(issue(erpClientId, await signRaw({ headers: { "x-a2a-server-id": "vault.other.example.com" } })), status.UNAUTHENTICATED, INVALID);
    const elsewhere = await signRaw();
    await rejects(issue(erpClientId, { ...elsewhere, url: "https://sts.evil.example.com/" }), status.INVALID_ARGUMENT, /^aws_request\.url: must be "http:\/\/127\.0\.0\.1:\d+\/", the STS endpoint/);
    await rejects(issue(erpClientId, { ...elsewhere, url: `${sts.endpoint}/?Action=GetCallerIdentity` }), status.INVALID_ARGUMENT, /^aws_request\.url: /);
    await rejects(issue(erpClientId, { ...elsewhere, method: "GET" }), status.INVALID_ARGUMENT, /^aws_request\.method: must be "POST"/);
    await rejects(issue(erpClientId, { ...elsewhere, body: Buffer.alloc(5000, 97) }), status.INVALID_ARGUMENT, /^aws_request\.body: must be at most 4096 bytes/);
    const many = Array.from({ length: 51 }, (_, i) => ({ name: `x-h${i}`, value: "v" }));
    await rejects(issue(erpClientId, { ...elsewhere, headers: many }), status.INVALID_ARGUMENT, /^aws_request\.headers: allows at most 50 entries/);
    await rejects(issue(erpClientId, { ...elsewhere, headers: [...elsewhere.headers, { name: "x-evil", value: "a\r\nInjected: 1" }] }), status.INVALID_ARGUMENT, /^aws_request\.headers\[\d+\]\.value: .*without CR, LF or NUL/);
    await rejects(issue(erpClientId, undefined), status.INVALID_ARGUMENT, /^aws_request: is required/);
    await rejects(token.issueToken({ grantType: "aws_iam", clientId: erpClientId, clientSecret: "x", awsRequest: elsewhere }), status.INVALID_ARGUMENT, /^client_secret: must be empty/);
    assert.equal(sts.calls, calls, "none of these reached STS");
  });

  it("unknown clients and other methods' clients never make A2A call STS", async () => {
    const calls = sts.calls;
    const signed = await signRaw();
    await rejects(issue("a2a_ci_0000000000000000000000", signed), status.UNAUTHENTICATED, INVALID);
    await rejects(issue(oauth2ClientId, signed), status.UNAUTHENTICATED, INVALID);
    assert.equal(sts.calls, calls);
  });

  it("STS down or unreachable is UNAVAILABLE, and A2A recovers when it is back", async () => {
    sts.failing = true;
    try {
      await rejects(issue(erpClientId, await signRaw()), status.UNAVAILABLE, /STS/);
    } finally {
      sts.failing = false;
    }
    assert.ok((await issue(erpClientId, await signRaw())).accessToken);
    // A hung STS: the call gives up after A2A_AWS_STS_TIMEOUT_MS (1 s here), not the client's deadline.
    sts.hanging = true;
    try {
      const started = Date.now();
      await rejects(issue(erpClientId, await signRaw()), status.UNAVAILABLE, /STS/);
      const waited = Date.now() - started;
      assert.ok(waited >= 900 && waited < 5000, `gave up after ${waited} ms`);
    } finally {
      sts.hanging = false;
    }
    assert.ok((await issue(erpClientId, await signRaw())).accessToken);
    const down = await startA2A({ awsStsEndpoint: "http://127.0.0.1:9", awsServerId: SERVER_ID, awsStsTimeoutMs: 500 });
    try {
      const signed = await signRaw();
      // Same request shape, aimed at the closed port this server is configured with.
      const { application } = await down.client.admin.createApplication({ application: { name: "aws", authMethod: AuthMethod.AUTH_METHOD_AWS, awsArns: ["arn:aws:iam::*:role/*"] } });
      const { credentials } = await down.client.admin.createAuthorization({ authorization: { applicationId: application!.id, grants: [{ resource: "a2a", permission: Permission.PERMISSION_READ }], allowedIps: ["*"] } });
      const client = createClient(TokenServiceDefinition, down.address);
      try {
        const moved = { ...signed, url: "http://127.0.0.1:9/", headers: signed.headers.map((h) => (h.name === "host" ? { ...h, value: "127.0.0.1:9" } : h)) };
        await rejects(client.issueToken({ grantType: "aws_iam", clientId: credentials!.clientId, awsRequest: moved }), status.UNAVAILABLE, /STS could not be reached/);
      } finally {
        client.close();
      }
    } finally {
      await down.close();
    }
  });

  it("a disabled application's workload gets no token", async () => {
    const apps = await a2a.client.admin.listApplications({});
    const app = apps.applications.find((a) => a.authMethod === AuthMethod.AUTH_METHOD_AWS)!;
    await a2a.client.admin.updateApplication({ application: { id: app.id, enabled: false }, updateMask: ["enabled"] });
    try {
      await rejects(issue(erpClientId, await signRaw()), status.UNAUTHENTICATED, INVALID);
    } finally {
      await a2a.client.admin.updateApplication({ application: { id: app.id, enabled: true }, updateMask: ["enabled"] });
    }
  });

  it("ARN rules: assumed-role sessions map to their role; '*' matches any run of characters", () => {
    assert.equal(canonicalArn(ERP_SESSION), "arn:aws:iam::123456789012:role/erp-finance");
    assert.equal(canonicalArn("arn:aws-us-gov:sts::123456789012:assumed-role/r/s"), "arn:aws-us-gov:iam::123456789012:role/r");
    assert.equal(canonicalArn("arn:aws:iam::123456789012:user/bob"), "arn:aws:iam::123456789012:user/bob");
    assert.ok(arnMatches("arn:aws:iam::123456789012:role/erp-*", "arn:aws:iam::123456789012:role/erp-finance"));
    assert.ok(!arnMatches("arn:aws:iam::123456789012:role/erp-*", "arn:aws:iam::123456789012:role/admin"));
    assert.ok(arnMatches("arn:aws:iam::*:role/ci", "arn:aws:iam::210987654321:role/ci"));
    assert.ok(!arnMatches("arn:aws:iam::123456789012:role/ci", "arn:aws:iam::123456789012:role/ci-admin"));
    assert.ok(!arnMatches("arn:aws:iam::123456789012:role/a.b", "arn:aws:iam::123456789012:role/aXb"), "dots are literal");
  });

  describe("the trail", () => {
    it("every attempt is audited under the client, with STS's verdict or the ARN, and no AWS secret, signature or session token", async () => {
      const events = await a2a.server.database.knex("audit_events").where({ client_id: erpClientId, method: "/a2a.v1.TokenService/IssueToken" }).select("status_code", "error", "target");
      assert.ok(events.some((e) => e.status_code === 0 && String(e.target).includes(`aws identity ${ERP_SESSION}`)));
      assert.ok(events.some((e) => e.status_code === status.UNAUTHENTICATED && /not among the application's aws_arns/.test(e.error)));
      assert.ok(events.some((e) => e.status_code === status.UNAUTHENTICATED && /STS refused the signed request: SignatureDoesNotMatch/.test(e.error)));
      assert.ok(events.some((e) => e.status_code === status.UNAUTHENTICATED && /STS refused the signed request: InvalidClientTokenId/.test(e.error)));
      assert.ok(events.some((e) => e.status_code === status.UNAVAILABLE));
      assert.ok(events.some((e) => e.status_code === status.INVALID_ARGUMENT && /GetCallerIdentity/.test(e.error)));
      const table = JSON.stringify(await a2a.server.database.knex("audit_events").select());
      const logs = a2a.logs();
      for (const secret of [TEST_KEY.secretAccessKey, INTRUDER.secretAccessKey, SESSION.sessionToken, "AWS4-HMAC-SHA256", "Signature="]) {
        assert.ok(!table.includes(secret), `audit table holds ${secret.slice(0, 12)}…`);
        assert.ok(!logs.includes(secret), `logs hold ${secret.slice(0, 12)}…`);
      }
    });
  });
});
