import assert from "node:assert/strict";
import { loadConfig } from "../src/config";

describe("configuration", function () {
  it("has safe defaults", () => {
    const c = loadConfig({});
    assert.equal(c.listen, "127.0.0.1:50051");
    assert.equal(c.dataDir, "./data");
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.tokenTtlSeconds, 3600);
    assert.equal(c.allowReveal, true);
    assert.deepEqual(c.trustedProxies, []);
  });

  it("reads every variable", () => {
    const c = loadConfig({
      A2A_LISTEN: "0.0.0.0:6000", DATABASE_URL: "postgres://x/y", A2A_DATA_DIR: "/var/lib/a2a", A2A_TOKEN_TTL: "600",
      A2A_MASTER_KEY: "00".repeat(32), A2A_TRUSTED_PROXIES: "10.0.0.0/8, ::1", A2A_ALLOW_REVEAL: "false", A2A_ISSUER: "https://a2a.example.com",
      A2A_NODE_NAME: "node-1", A2A_BOOTSTRAP_ADMIN: "no",
    });
    assert.equal(c.listen, "0.0.0.0:6000");
    assert.equal(c.tokenTtlSeconds, 600);
    assert.equal(c.masterKey?.length, 32);
    assert.deepEqual(c.trustedProxies.map((r) => (r === "*" ? r : r.text)), ["10.0.0.0/8", "::1/128"]);
    assert.equal(c.allowReveal, false);
    assert.equal(c.bootstrapAdmin, false);
    assert.equal(c.issuer, "https://a2a.example.com");
    assert.equal(loadConfig({ A2A_MASTER_KEY: Buffer.alloc(32, 9).toString("base64") }).masterKey?.equals(Buffer.alloc(32, 9)), true);
  });

  it("refuses bad values, naming the variable and the rule", () => {
    assert.throws(() => loadConfig({ A2A_TOKEN_TTL: "10" }), /^Error: A2A_TOKEN_TTL: must be a whole number of seconds from 60 to 86400, got "10"/);
    assert.throws(() => loadConfig({ A2A_TOKEN_TTL: "1h" }), /A2A_TOKEN_TTL/);
    assert.throws(() => loadConfig({ A2A_MASTER_KEY: "c2hvcnQ=" }), /A2A_MASTER_KEY: must be 32 bytes/);
    assert.throws(() => loadConfig({ A2A_TRUSTED_PROXIES: "10.0.0.0/8,nope" }), /A2A_TRUSTED_PROXIES\[1\]: "nope" is not an IP address/);
    assert.throws(() => loadConfig({ A2A_ALLOW_REVEAL: "maybe" }), /A2A_ALLOW_REVEAL: must be true or false/);
  });
});
