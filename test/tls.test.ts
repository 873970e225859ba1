import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { credentials, status } from "@grpc/grpc-js";
import { createClient, HealthDefinition, HealthCheckResponse_ServingStatus } from "@a2a/sdk";
import { loadConfig } from "../src/config";
import { createLogger } from "../src/logger";
import { startServer } from "../src/server";
import { rejects } from "./helpers";

describe("TLS", function () {
  it("serves TLS with A2A_TLS_CERT/A2A_TLS_KEY and refuses plaintext clients", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "a2a-tls-"));
    const cert = path.join(dir, "cert.pem");
    const key = path.join(dir, "key.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert], { stdio: "ignore" });
    const server = await startServer(
      { ...loadConfig({}), listen: "127.0.0.1:0", dataDir: ":memory:", databaseUrl: undefined, logLevel: "error" },
      { logger: createLogger("error"), env: { A2A_TLS_CERT: cert, A2A_TLS_KEY: key } },
    );
    try {
      const secure = createClient(HealthDefinition, server.address, { credentials: credentials.createSsl(readFileSync(cert)) });
      assert.equal((await secure.check({ service: "" })).status, HealthCheckResponse_ServingStatus.SERVING);
      secure.close();
      const plain = createClient(HealthDefinition, server.address);
      await rejects(plain.check({ service: "" }, { deadline: 3000 }), status.UNAVAILABLE);
      plain.close();
    } finally {
      await server.close(1000);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a half configuration", async () => {
    await assert.rejects(
      startServer({ ...loadConfig({}), listen: "127.0.0.1:0", dataDir: ":memory:", databaseUrl: undefined }, { logger: createLogger("error"), env: { A2A_TLS_CERT: "/x" } }),
      /A2A_TLS_CERT and A2A_TLS_KEY: set both or neither/,
    );
  });
});
