import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client, credentials, Metadata, status } from "@grpc/grpc-js";
import { AdminServiceDefinition } from "@a2a/sdk";
import { openDatabase } from "../src/store/db";
import { verifyChain } from "../src/store/audit-queries";
import { freshDatabase, sleep, startA2A } from "./helpers";
import { databaseBehindProxy } from "./support/proxy";
import { spawnServer } from "./support/server-process";

interface Answer {
  readonly method: "listResources" | "createResource";
  readonly code: number;
  /** The x-request-id trailer: present when A2A itself answered. */
  readonly requestId?: string;
  readonly resource?: string;
}

/** One call, with its status and trailers (the request id the trail is keyed by). */
function call(client: Client, basic: string, method: Answer["method"], resource?: string): Promise<Answer> {
  const def = AdminServiceDefinition.methods[method];
  const md = new Metadata();
  md.set("authorization", basic);
  const request = method === "createResource" ? { resource: { name: resource!, description: "" } } : { pageSize: 1, pageToken: "" };
  return new Promise((resolve) => {
    const c = client.makeUnaryRequest(
      `/a2a.v1.AdminService/${def.name}`,
      (v: unknown) => Buffer.from((def.requestType as { encode(v: unknown): { finish(): Uint8Array } }).encode(v).finish()),
      (b: Buffer) => b,
      request, md, { deadline: Date.now() + 5000 }, () => undefined,
    );
    c.on("status", (s) => resolve({ method, code: s.code, requestId: s.metadata.get("x-request-id")[0]?.toString(), resource }));
  });
}

/** `workers` loops of calls (one in four creates a resource) until `stop` is set. */
async function load(address: string, basic: string, workers: number, stop: { done: boolean }): Promise<Answer[]> {
  const client = new Client(address, credentials.createInsecure());
  const answers: Answer[] = [];
  let n = 0;
  await Promise.all(Array.from({ length: workers }, async (_, w) => {
    while (!stop.done) {
      const i = n++;
      answers.push(await call(client, basic, i % 4 === 0 ? "createResource" : "listResources", `load-${w}-${i}`));
    }
  }));
  client.close();
  return answers;
}

/**
 * What "no acknowledged request is missing, nothing half-written" means, checked in the store:
 * every request A2A answered (other than UNAVAILABLE) has its record; every resource created is
 * there with an OK record, and no resource exists without one; the chain verifies.
 */
async function checkTrail(databaseUrl: string, answers: Answer[]): Promise<{ acknowledged: number }> {
  const db = await openDatabase({ databaseUrl, dataDir: ":memory:" });
  try {
    const answered = answers.filter((a) => a.requestId && a.code !== status.UNAVAILABLE);
    const recorded = new Set<string>();
    const ids = answered.map((a) => a.requestId!);
    for (let i = 0; i < ids.length; i += 1000) {
      for (const r of await db.knex("audit_events").whereIn("request_id", ids.slice(i, i + 1000)).select("request_id")) recorded.add(r.request_id);
    }
    const missing = answered.filter((a) => !recorded.has(a.requestId!));
    assert.equal(missing.length, 0, `${missing.length} acknowledged requests have no audit record`);

    const created = answers.filter((a) => a.method === "createResource" && a.code === status.OK).map((a) => a.resource!);
    const stored = new Set(await db.knex("resources").whereNot({ name: "a2a" }).pluck("name"));
    for (const name of created) assert.ok(stored.has(name), `resource ${name} was acknowledged but is not stored`);
    const okCreates = await db.knex("audit_events").where({ method: "/a2a.v1.AdminService/CreateResource", status_code: 0 }).pluck("target");
    const auditedNames = new Set(okCreates.map((t: string) => t.replace(/^resource /, "")));
    for (const name of stored) assert.ok(auditedNames.has(name), `resource ${name} is stored without its audit record`);
    const report = await verifyChain(db.knex);
    assert.equal(report.ok, true, report.message);
    return { acknowledged: answered.length };
  } finally {
    await db.close();
  }
}

describe("audit durability (PostgreSQL)", function () {
  this.timeout(120_000);
  before(function () {
    if (!process.env.DATABASE_URL) {
      console.log("      SKIPPED: needs DATABASE_URL (kill -9 and a cut connection are tested on PostgreSQL)");
      this.skip();
    }
  });

  it("kill -9 under load: every acknowledged request is in the trail, every change with its record", async () => {
    const db = await freshDatabase();
    const dataDir = mkdtempSync(path.join(tmpdir(), "a2a-kill-"));
    const server = await spawnServer({ DATABASE_URL: db.url, A2A_DATA_DIR: dataDir, A2A_MASTER_KEY: Buffer.alloc(32, 9).toString("hex"), A2A_LOG_LEVEL: "info" });
    const { child, address } = server;
    try {
      const admin = JSON.parse(readFileSync(path.join(dataDir, "admin-credentials.json"), "utf8"));
      const basic = `Basic ${Buffer.from(`${admin.client_id}:${admin.client_secret}`).toString("base64")}`;
      const stop = { done: false };
      const loading = load(address, basic, 16, stop);
      await sleep(1500);
      child.kill("SIGKILL");
      await sleep(200);
      stop.done = true;
      const answers = await loading;
      const { acknowledged } = await checkTrail(db.url, answers);
      assert.ok(acknowledged > 50, `the load was real: ${acknowledged} acknowledged before the kill`);
      console.log(`      (${acknowledged} requests acknowledged before kill -9, ${answers.length - acknowledged} refused or cut by the kill; all acknowledged ones are in the trail)`);
      assert.ok(answers.some((a) => a.code !== status.OK), "some calls were cut by the kill");
    } finally {
      child.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
      await db.drop();
    }
  });

  it("the database unreachable mid-load and back: UNAVAILABLE meanwhile, nothing acknowledged is lost, it recovers alone", async () => {
    const db = await databaseBehindProxy();
    const { proxy } = db;
    const a2a = await startA2A({ databaseUrl: db.viaProxy });
    try {
      const basic = `Basic ${Buffer.from(`${a2a.admin.client_id}:${a2a.admin.client_secret}`).toString("base64")}`;
      const stop = { done: false };
      const loading = load(a2a.address, basic, 8, stop);
      await sleep(700);
      await proxy.cut();
      await sleep(1500);
      await proxy.open();
      await sleep(2000);
      stop.done = true;
      const answers = await loading;
      assert.ok(answers.some((a) => a.code === status.UNAVAILABLE), "the cut was felt");
      assert.ok(!answers.some((a) => a.code === status.INTERNAL), "never INTERNAL");
      const lastOk = answers.map((a, i) => (a.code === status.OK ? i : -1)).reduce((a, b) => Math.max(a, b));
      const firstUnavailable = answers.findIndex((a) => a.code === status.UNAVAILABLE);
      assert.ok(lastOk > firstUnavailable, "calls succeed again after the store is back");
      await a2a.server.close(2000);
      const { acknowledged } = await checkTrail(db.url, answers);
      const unavailable = answers.filter((a) => a.code === status.UNAVAILABLE).length;
      console.log(`      (${acknowledged} requests acknowledged, ${unavailable} answered UNAVAILABLE during the cut; all acknowledged ones are in the trail)`);
    } finally {
      await a2a.close().catch(() => undefined);
      await db.drop();
    }
  });
});
