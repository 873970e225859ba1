import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { AuthMethod, Permission } from "@a2a/sdk";
import { CLIENT_SECRET_PATTERN, isWellFormedSecret, KeyRing, newClientId, newClientSecret } from "../src/domain/secrets";
import { redact } from "../src/logger";
import { rejects, startA2A, unique } from "./helpers";

describe("secrets", function () {
  it("are 256-bit, recognisable and self-checking", () => {
    const s = newClientSecret();
    assert.match(s, /^a2a_cs_[0-9A-Za-z]{49}$/);
    assert.ok(CLIENT_SECRET_PATTERN.test(s));
    assert.ok(isWellFormedSecret(s));
    // Any single-character change breaks the checksum.
    const flipped = s.slice(0, 20) + (s[20] === "a" ? "b" : "a") + s.slice(21);
    assert.ok(!isWellFormedSecret(flipped));
    assert.notEqual(newClientSecret(), s);
    assert.match(newClientId(), /^a2a_ci_[0-9A-Za-z]{22}$/);
  });

  it("are sealed with AES-256-GCM bound to their row, and hashed with a keyed HMAC", () => {
    const ring = new KeyRing(Buffer.alloc(32, 1));
    const sealed = ring.encrypt("a2a_cs_x", "client-secret:a");
    assert.ok(!sealed.includes("a2a_cs_x"));
    assert.equal(ring.decrypt(sealed, "client-secret:a"), "a2a_cs_x");
    assert.throws(() => ring.decrypt(sealed, "client-secret:b"), "moved to another row");
    assert.throws(() => new KeyRing(Buffer.alloc(32, 2)).decrypt(sealed, "client-secret:a"), "another master key");
    const hash = ring.hashSecret("a2a_cs_x");
    assert.ok(ring.secretMatches("a2a_cs_x", hash));
    assert.ok(!ring.secretMatches("a2a_cs_y", hash));
    assert.notEqual(new KeyRing(Buffer.alloc(32, 2)).hashSecret("a2a_cs_x"), hash);
  });

  it("the log redactor removes secrets and JWTs wherever they appear", () => {
    const s = newClientSecret();
    const out = JSON.stringify(redact({ a: `x ${s} y`, nested: [{ client_secret: "plain" }], authorization: "Bearer eyJa.eyJb.c", m: "eyJhbGci.eyJzdWIi.sig" }));
    assert.ok(!out.includes(s) && !out.includes("plain") && !out.includes("eyJhbGci"));
  });

  it("never appear in the logs, the audit trail or a dump of the database", async () => {
    const a2a = await startA2A();
    const secrets: string[] = [a2a.admin.client_secret];
    const tokens: string[] = [];
    try {
      const { admin, token } = a2a.client;
      await admin.createResource({ resource: { name: "pam-core" } });
      const app = await admin.createApplication({ application: { name: unique("ERP"), authMethod: AuthMethod.AUTH_METHOD_OAUTH2 } });
      const created = await admin.createAuthorization({
        authorization: { applicationId: app.application!.id, grants: [{ resource: "pam-core", permission: Permission.PERMISSION_READ }], allowedIps: ["*"] },
      });
      secrets.push(created.credentials!.clientSecret);
      secrets.push((await admin.revealAuthorizationCredentials({ id: created.authorization!.id })).credentials!.clientSecret);
      const t = await token.issueToken({ grantType: "client_credentials", clientId: created.credentials!.clientId, clientSecret: created.credentials!.clientSecret });
      tokens.push(t.accessToken, await a2a.client.tokens!.getToken());
      await token.introspectToken({ token: t.accessToken });
      await token.revokeToken({ token: t.accessToken });
      // Failures too: a wrong secret, a secret sent as a client id, a garbage bearer token.
      const wrong = newClientSecret();
      secrets.push(wrong);
      await rejects(token.issueToken({ grantType: "client_credentials", clientId: created.credentials!.clientId, clientSecret: wrong }), status.UNAUTHENTICATED);
      await rejects(token.issueToken({ grantType: "client_credentials", clientId: created.credentials!.clientSecret, clientSecret: wrong }), status.UNAUTHENTICATED);

      // A dump of every table, as text.
      const db = a2a.server.database.knex;
      const tables = (await db.raw("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).rows.map((r: { tablename: string }) => r.tablename);
      assert.ok(tables.includes("authorizations") && tables.includes("audit_events") && tables.includes("signing_keys"));
      let dump = "";
      for (const table of tables) {
        const rows = (await db.raw(`SELECT row_to_json(t)::text AS j FROM "${table}" t`)).rows as { j: string }[];
        dump += rows.map((r) => r.j).join("\n");
      }
      assert.ok(dump.includes(created.credentials!.clientId), "the dump holds the data");
      for (const s of [...secrets, ...tokens]) assert.ok(!dump.includes(s), "a secret or token is in the database");
      // Not even the secrets' base62 bodies.
      for (const s of secrets) assert.ok(!dump.includes(s.slice(7, 40)));
      const audit = JSON.stringify((await db("audit_events").select("*")));
      assert.match(audit, /IssueToken/);
      assert.match(audit, /invalid client_id/, "a secret pasted as client_id is not recorded");
      // The signing keys' private halves are sealed.
      const keys = await db("signing_keys").select("*");
      assert.ok(keys.length >= 1 && keys.every((k: { private_sealed: string }) => k.private_sealed.startsWith("v1.") && !k.private_sealed.includes('"d"')));
    } finally {
      await a2a.close();
    }
    const logs = a2a.logs();
    assert.ok(logs.includes("IssueToken"), "the logs were captured");
    for (const s of [...secrets, ...tokens]) assert.ok(!logs.includes(s), "a secret or token is in the logs");
  });
});
