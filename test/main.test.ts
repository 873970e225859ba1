import assert from "node:assert/strict";
import { execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { connectA2A, createClient, HealthDefinition, HealthCheckResponse_ServingStatus } from "@a2a/sdk";
import { spawnServer, type ServerProcess } from "./support/server-process";

const ROOT = path.join(__dirname, "..");

/** The server as `npm start` runs it, on the embedded store in `dataDir`. */
function startMain(dataDir: string): Promise<ServerProcess> {
  return spawnServer({ DATABASE_URL: "", A2A_DATA_DIR: dataDir, A2A_MASTER_KEY: "" });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.on("exit", (code) => resolve(code));
    child.kill("SIGTERM");
  });
}

describe("npm start: the server process on the embedded store", function () {
  this.timeout(180_000);
  const dataDir = mkdtempSync(path.join(tmpdir(), "a2a-main-"));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("bootstraps an administrator once, serves, stops on SIGTERM and keeps its data", async () => {
    const first = await startMain(dataDir);
    let creds: { client_id: string; client_secret: string };
    try {
      const file = path.join(dataDir, "admin-credentials.json");
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(path.join(dataDir, "master.key")).mode & 0o777, 0o600);
      creds = JSON.parse(readFileSync(file, "utf8"));
      assert.match(creds.client_id, /^a2a_ci_/);
      assert.match(creds.client_secret, /^a2a_cs_/);
      // Printed once for the person at the terminal (stderr), never in the JSON logs (stdout).
      for (let i = 0; i < 50 && !first.stderr().includes(creds.client_secret); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(first.stderr().includes(creds.client_secret));
      assert.ok(!first.stdout().includes(creds.client_secret));

      const health = createClient(HealthDefinition, first.address);
      assert.equal((await health.check({ service: "" })).status, HealthCheckResponse_ServingStatus.SERVING);
      health.close();
      const a2a = connectA2A({ address: first.address, clientId: creds.client_id, clientSecret: creds.client_secret });
      await a2a.admin.createResource({ resource: { name: "pam-core" } });
      a2a.close();
      assert.ok(existsSync(path.join(dataDir, "a2a.pid")));

      // A second server on the same embedded store is refused.
      const second = await promisify(execFile)(process.execPath, ["--import", "tsx", "src/main.ts"], {
        cwd: ROOT, env: { ...process.env, DATABASE_URL: "", A2A_DATA_DIR: dataDir, A2A_LISTEN: "127.0.0.1:0" },
      }).then(() => "started", (e: { stderr: string }) => e.stderr);
      assert.match(second, /another A2A server \(pid \d+\) uses the embedded store/);
      // So is the bootstrap-admin command, while the server runs.
      const cli = await promisify(execFile)(process.execPath, ["--import", "tsx", "src/cli/bootstrap-admin.ts"], {
        cwd: ROOT, env: { ...process.env, DATABASE_URL: "", A2A_DATA_DIR: dataDir },
      }).then(() => "ran", (e: { stderr: string }) => e.stderr);
      assert.match(cli, /has the embedded store .* open; stop it first/);
    } finally {
      assert.equal(await stop(first.child), 0, "graceful shutdown exits 0");
    }
    assert.ok(!existsSync(path.join(dataDir, "a2a.pid")));

    // With the server stopped, bootstrap-admin issues new administrator credentials.
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "src/cli/bootstrap-admin.ts"], {
      cwd: ROOT, env: { ...process.env, DATABASE_URL: "", A2A_DATA_DIR: dataDir },
    });
    const extra = JSON.parse(stdout) as { client_id: string; client_secret: string };
    assert.notEqual(extra.client_id, creds.client_id);

    const again = await startMain(dataDir);
    try {
      // No second bootstrap: still the first administrator's and bootstrap-admin's authorizations only.
      const a2a = connectA2A({ address: again.address, clientId: creds.client_id, clientSecret: creds.client_secret });
      const { authorizations } = await a2a.admin.listAuthorizations({});
      assert.deepEqual(authorizations.map((x) => x.clientId).sort(), [creds.client_id, extra.client_id].sort());
      a2a.close();
      for (const c of [creds, extra]) {
        const a2a = connectA2A({ address: again.address, clientId: c.client_id, clientSecret: c.client_secret });
        const { resources } = await a2a.admin.listResources({});
        assert.deepEqual(resources.map((r) => r.name), ["a2a", "pam-core"]);
        a2a.close();
      }
    } finally {
      assert.equal(await stop(again.child), 0);
    }
  });
});
