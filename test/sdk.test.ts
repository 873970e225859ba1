import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { AdminServiceDefinition, bearerAuth, ClientCredentialsTokenSource, createClient, HealthDefinition, HealthCheckResponse_ServingStatus } from "@a2a/sdk";
import { rejects, sleep, startA2A, type TestA2A } from "./helpers";

describe("SDK: token interceptor", function () {
  let a2a: TestA2A;
  before(async () => {
    a2a = await startA2A();
  });
  after(() => a2a?.close());

  const source = (extra: { refreshBeforeSeconds?: number } = {}) =>
    new ClientCredentialsTokenSource({ address: a2a.address, clientId: a2a.admin.client_id, clientSecret: a2a.admin.client_secret, ...extra });

  it("fetches one token for many concurrent calls", async () => {
    const tokens = source();
    const admin = createClient(AdminServiceDefinition, a2a.address, { interceptors: [bearerAuth(tokens)] });
    try {
      const results = await Promise.all(Array.from({ length: 25 }, () => admin.listResources({})));
      assert.equal(results.length, 25);
      assert.equal(tokens.fetches, 1);
    } finally {
      admin.close();
      tokens.close();
    }
  });

  it("refreshes before the token expires, once, under concurrency", async () => {
    // A 3600 s token refreshed 3599.85 s early: stale after 150 ms.
    const tokens = source({ refreshBeforeSeconds: 3599.85 });
    const admin = createClient(AdminServiceDefinition, a2a.address, { interceptors: [bearerAuth(tokens)] });
    try {
      await admin.listResources({});
      const first = await tokens.getToken();
      assert.equal(tokens.fetches, 1);
      await sleep(200);
      await Promise.all(Array.from({ length: 10 }, () => admin.listResources({})));
      assert.equal(tokens.fetches, 2);
      assert.notEqual(await tokens.getToken(), first);
    } finally {
      admin.close();
      tokens.close();
    }
  });

  it("on UNAUTHENTICATED it refreshes once and retries; it does not loop", async () => {
    const tokens = source();
    const admin = createClient(AdminServiceDefinition, a2a.address, { interceptors: [bearerAuth(tokens)] });
    try {
      await admin.listResources({});
      await a2a.client.token.revokeToken({ token: await tokens.getToken() });
      const { resources } = await admin.listResources({});
      assert.ok(resources.some((r) => r.name === "a2a"));
      assert.equal(tokens.fetches, 2, "one new token after the revoked one");
    } finally {
      admin.close();
      tokens.close();
    }
    // A source whose tokens are always refused: one retry, then the error surfaces.
    let gets = 0;
    const invalidated: string[] = [];
    const bad = { getToken: async () => `bad-${++gets}`, invalidate: (t: string) => void invalidated.push(t) };
    const client = createClient(AdminServiceDefinition, a2a.address, { interceptors: [bearerAuth(bad)] });
    try {
      await rejects(client.listResources({}), status.UNAUTHENTICATED, /^invalid access token$/);
      assert.equal(gets, 2);
      assert.deepEqual(invalidated, ["bad-1"]);
    } finally {
      client.close();
    }
  });

  it("surfaces A2A's refusal when no token can be had, and does not retry forever", async () => {
    const tokens = new ClientCredentialsTokenSource({ address: a2a.address, clientId: a2a.admin.client_id, clientSecret: "a2a_cs_wrong" });
    const admin = createClient(AdminServiceDefinition, a2a.address, { interceptors: [bearerAuth(tokens)] });
    try {
      await rejects(admin.listResources({}), status.UNAUTHENTICATED, /could not obtain an access token: invalid client credentials/);
      assert.equal(tokens.fetches, 1);
    } finally {
      admin.close();
      tokens.close();
    }
  });

  it("reports UNAVAILABLE when A2A cannot be reached", async () => {
    const tokens = new ClientCredentialsTokenSource({ address: "127.0.0.1:1", clientId: "x", clientSecret: "y", timeoutMs: 2000 });
    const admin = createClient(AdminServiceDefinition, "127.0.0.1:1", { interceptors: [bearerAuth(tokens)] });
    try {
      await rejects(admin.listResources({}), status.UNAVAILABLE, /could not obtain an access token/);
    } finally {
      admin.close();
      tokens.close();
    }
  });

  it("health Watch reports SERVING, then NOT_SERVING when the server shuts down", async () => {
    const other = await startA2A();
    const health = createClient(HealthDefinition, other.address);
    const seen: number[] = [];
    const watching = (async () => {
      for await (const update of health.watch({ service: "" })) seen.push(update.status);
    })().catch(() => undefined);
    while (seen.length === 0) await sleep(20);
    assert.deepEqual(seen, [HealthCheckResponse_ServingStatus.SERVING]);
    await other.close();
    await watching;
    assert.deepEqual(seen, [HealthCheckResponse_ServingStatus.SERVING, HealthCheckResponse_ServingStatus.NOT_SERVING]);
    health.close();
  });

  it("serves grpc.health.v1", async () => {
    const health = createClient(HealthDefinition, a2a.address);
    try {
      assert.equal((await health.check({ service: "" })).status, HealthCheckResponse_ServingStatus.SERVING);
      assert.equal((await health.check({ service: "a2a.v1.AdminService" })).status, HealthCheckResponse_ServingStatus.SERVING);
      await rejects(health.check({ service: "nope.v1.Nope" }), status.NOT_FOUND);
    } finally {
      health.close();
    }
  });
});
