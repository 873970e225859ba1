/**
 * `npm run bench`: throughput and latency of A2A's hot paths, measured against a real server
 * process on loopback (the embedded store, or PostgreSQL when DATABASE_URL is set).
 *
 * Every loop is bounded by a request count and a time limit. Figures depend on the machine;
 * compare runs on the same one.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { AuthMethod, bearerAuth, ClientCredentialsTokenSource, connectA2A, createClient, Permission, signGetCallerIdentity, TokenServiceDefinition } from "@a2a/sdk";
import { connectPam } from "../examples/erp/client";
import { CredentialServiceDefinition } from "../examples/gen/pam/v1/credential_service";
import { startPamServer } from "../examples/pam/server";
import { startStsStandIn, TEST_KEY } from "../test/support/sts";
import { CONCURRENCY, measure, printTable, REQUESTS, runBench, startA2AProcess, TIME_LIMIT_MS, type Result } from "./harness";

const AWS_SERVER_ID = "a2a-bench";

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "a2a-bench-"));
  // The tests' STS stand-in (SigV4 verified with AWS's test key), so the AWS grant runs end to end on loopback.
  const sts = await startStsStandIn({ [TEST_KEY.accessKeyId]: { secretAccessKey: TEST_KEY.secretAccessKey, arn: "arn:aws:sts::123456789012:assumed-role/bench/i-1" } });
  const { child, address } = await startA2AProcess({ A2A_DATA_DIR: dataDir, A2A_AWS_STS_ENDPOINT: sts.endpoint, A2A_AWS_SERVER_ID: AWS_SERVER_ID });
  const cleanup: (() => unknown)[] = [() => child.kill("SIGTERM"), () => rmSync(dataDir, { recursive: true, force: true }), () => sts.close()];
  try {
    const store = process.env.DATABASE_URL ? "PostgreSQL" : "embedded PGlite";
    let admin: { client_id: string; client_secret: string };
    try {
      admin = JSON.parse(readFileSync(path.join(dataDir, "admin-credentials.json"), "utf8"));
    } catch {
      throw new Error("the store was not empty, so no administrator was bootstrapped: point DATABASE_URL at an empty database");
    }
    const a2a = connectA2A({ address, clientId: admin.client_id, clientSecret: admin.client_secret });
    cleanup.unshift(() => a2a.close());
    await a2a.admin.createResource({ resource: { name: "pam-core" } });
    const app = await a2a.admin.createApplication({ application: { name: "bench ERP", authMethod: AuthMethod.AUTH_METHOD_OAUTH2 } });
    const authz = async (permission: Permission) =>
      (await a2a.admin.createAuthorization({ authorization: { applicationId: app.application!.id, grants: [{ resource: "pam-core", permission }], allowedIps: ["127.0.0.0/8"] } })).credentials!;
    const erp = await authz(Permission.PERMISSION_READ_WRITE);
    const pamCreds = await authz(Permission.PERMISSION_READ);
    const signerApp = await a2a.admin.createApplication({ application: { name: "bench legacy ERP", authMethod: AuthMethod.AUTH_METHOD_OAUTH1 } });
    const signerAuthz = async (resource: string, permission: Permission) =>
      (await a2a.admin.createAuthorization({ authorization: { applicationId: signerApp.application!.id, grants: [{ resource, permission }], allowedIps: ["127.0.0.0/8"] } })).credentials!;
    const keys = (c: { clientId: string; clientSecret: string; token: string; tokenSecret: string }) =>
      ({ consumerKey: c.clientId, consumerSecret: c.clientSecret, token: c.token, tokenSecret: c.tokenSecret });
    const signedAdmin = connectA2A({ address, oauth1: keys(await signerAuthz("a2a", Permission.PERMISSION_READ)) });
    cleanup.unshift(() => signedAdmin.close());
    const signedErp = keys(await signerAuthz("pam-core", Permission.PERMISSION_READ_WRITE));
    const awsApp = await a2a.admin.createApplication({ application: { name: "bench EC2", authMethod: AuthMethod.AUTH_METHOD_AWS, awsArns: ["arn:aws:iam::123456789012:role/bench"] } });
    const awsAuthz = (await a2a.admin.createAuthorization({ authorization: { applicationId: awsApp.application!.id, grants: [{ resource: "pam-core", permission: Permission.PERMISSION_READ }], allowedIps: ["127.0.0.0/8"] } })).credentials!;

    const token = createClient(TokenServiceDefinition, address);
    cleanup.unshift(() => token.close());
    const erpTokens = new ClientCredentialsTokenSource({ address, ...erp });
    const erpToken = await erpTokens.getToken();

    const pamOffline = await startPamServer({ a2aAddress: address });
    const pamCached = await startPamServer({ a2aAddress: address, introspection: { ...pamCreds, cacheMs: 1000 } });
    const pamLive = await startPamServer({ a2aAddress: address, introspection: { ...pamCreds, cacheMs: 0 } });
    const pamSigned = await startPamServer({ a2aAddress: address, account: pamCreds });
    for (const p of [pamOffline, pamCached, pamLive, pamSigned]) cleanup.unshift(() => p.close());
    const pamClient = (addr: string) => createClient(CredentialServiceDefinition, addr, { interceptors: [bearerAuth(erpTokens)] });
    const [offline, cached, live] = [pamOffline, pamCached, pamLive].map((p) => pamClient(p.address));
    cleanup.unshift(() => [offline, cached, live].forEach((c) => c.close()));
    const signedPam = connectPam({ a2aAddress: address, pamAddress: pamSigned.address, oauth1: signedErp });
    cleanup.unshift(() => signedPam.close());

    const results: Result[] = [];
    results.push(await measure("IssueToken (client credentials, audited)", () =>
      token.issueToken({ grantType: "client_credentials", clientId: erp.clientId, clientSecret: erp.clientSecret })));
    results.push(await measure("IntrospectToken (RFC 7662, audited)", () => a2a.token.introspectToken({ token: erpToken })));
    results.push(await measure("IssueToken (aws_iam: SigV4 signed by the AWS SDK, checked by the STS stand-in)", async () =>
      token.issueToken({ grantType: "aws_iam", clientId: awsAuthz.clientId, awsRequest: await signGetCallerIdentity({ serverId: AWS_SERVER_ID, stsEndpoint: sts.endpoint, awsCredentials: TEST_KEY }) })));
    results.push(await measure("AdminService.ListResources (bearer, audited)", () => a2a.admin.listResources({})));
    results.push(await measure("AdminService.ListResources (OAuth 1.0 signed, nonce stored, audited)", () => signedAdmin.admin.listResources({})));
    results.push(await measure("AuditService.ListAuditEvents (page of 100)", () => a2a.audit.listAuditEvents({ pageSize: 100 })));
    results.push(await measure("PAM call via guard, JWT only", () => offline.listCredentials({})));
    results.push(await measure("PAM call via guard, introspection cached 1 s", () => cached.listCredentials({})));
    results.push(await measure("PAM call via guard, introspection every call", () => live.listCredentials({})));
    results.push(await measure("PAM call via guard, OAuth 1.0 (A2A Authorize every call)", () => signedPam.pam.listCredentials({})));
    erpTokens.close();

    const audited = (await a2a.audit.listAuditEvents({ pageSize: 1 })).events[0]?.id;
    process.stdout.write(`\nA2A benchmark — store: ${store}; ${CONCURRENCY} concurrent, up to ${REQUESTS} requests or ${TIME_LIMIT_MS / 1000} s per row; node ${process.version}\n\n`);
    printTable(results);
    process.stdout.write(`\naudit records written: ${audited}\n`);
  } finally {
    for (const c of cleanup) await c();
  }
}

runBench(main);
