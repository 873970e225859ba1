/**
 * `npm run bench` (second part): the audit trail at scale. Seeds a large chained trail spread
 * over three months (three partitions) straight into the store, starts A2A on it as its own
 * process, and measures the auditor's queries through AuditService: filtered pages, a deep
 * page, a day's range, an export and a full chain verification.
 *
 * BENCH_AUDIT_ROWS sets the trail's size (default 300 000 on PostgreSQL, 100 000 on the
 * embedded store). With DATABASE_URL, the trail goes into a fresh database created next to it
 * and dropped afterwards.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Knex } from "knex";
import { AuditOrder, connectA2A, ExportFormat } from "@a2a/sdk";
import { chainHash, createPartition, GENESIS } from "../src/store/audit";
import { openDatabase } from "../src/store/db";
import { freshDatabase } from "../test/helpers";
import { measure, printTable, runBench, startA2AProcess, type Result } from "./harness";

const ROWS = Number(process.env.BENCH_AUDIT_ROWS ?? (process.env.DATABASE_URL ? 300_000 : 100_000));
const CLIENTS = 1000;
const DAYS = 90;
const METHODS = [
  "/a2a.v1.TokenService/IssueToken", "/a2a.v1.TokenService/IssueToken", "/a2a.v1.TokenService/IssueToken",
  "/a2a.v1.TokenService/Authorize", "/a2a.v1.TokenService/Authorize", "/a2a.v1.TokenService/IntrospectToken",
  "/a2a.v1.AdminService/ListApplications", "/a2a.v1.AdminService/UpdateAuthorization",
];
const RESOURCES = ["pam-core", "billing", "inventory", "hr", "a2a"];

/** A deterministic spread: client i, its application and authorization, a 10.x.y.z address. */
function identity(i: number) {
  const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");
  return {
    clientId: `a2a_ci_bench${String(i).padStart(18, "0")}`,
    applicationId: `00000000-0000-4000-8000-${hex(i % 100, 12)}`,
    authorizationId: `00000000-0000-4000-9000-${hex(i, 12)}`,
    peerIp: `10.${i % 4}.${Math.floor(i / 4) % 256}.${(i * 7) % 250 + 1}`,
  };
}

/** Writes `rows` chained records, oldest `DAYS` days ago, the newest now, in batches of 1000. */
async function seedTrail(db: Knex, rows: number): Promise<void> {
  const now = Date.now();
  const start = now - DAYS * 86_400_000;
  for (let d = 0; d <= DAYS + 31; d += 28) await createPartition(db, new Date(start + d * 86_400_000));
  let prev = GENESIS;
  for (let lo = 1; lo <= rows; lo += 1000) {
    const batch = [];
    for (let id = lo; id < Math.min(lo + 1000, rows + 1); id++) {
      const who = identity((id * 7919) % CLIENTS);
      const failed = id % 20 === 0;
      const content = {
        id, time: new Date(start + Math.floor(((id - 1) / rows) * (now - start))), request_id: randomUUID(), node: `node-${id % 3}`,
        peer_ip: who.peerIp, client_id: who.clientId, application_id: who.applicationId, application_name: `App ${id % 100}`,
        authorization_id: who.authorizationId, method: METHODS[id % METHODS.length], resource: RESOURCES[id % RESOURCES.length],
        status_code: failed ? [16, 7, 3][id % 3] : 0, error: failed ? "invalid client credentials" : null, duration_ms: 1 + (id % 50) / 10,
        user_agent: "grpc-node-js/1.14.7", referer: null, target: null, request: { clientId: who.clientId, clientSecret: "[redacted]" },
      };
      const hash = chainHash(prev, content);
      batch.push({ ...content, request: JSON.stringify(content.request), prev_hash: prev, hash });
      prev = hash;
    }
    await db("audit_events").insert(batch);
  }
  await db("audit_chain").where({ id: 1 }).update({ head_id: rows, head_hash: prev, head_time: new Date(now) });
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "a2a-bench-trail-"));
  // A fresh PostgreSQL database next to DATABASE_URL's (as the tests make), or the embedded store.
  const fresh = process.env.DATABASE_URL ? await freshDatabase() : { url: undefined, drop: async () => undefined };
  const cleanup: (() => unknown)[] = [() => rmSync(dataDir, { recursive: true, force: true }), () => fresh.drop()];
  try {
    const seeding = performance.now();
    const store = await openDatabase({ databaseUrl: fresh.url, dataDir });
    await seedTrail(store.knex, ROWS);
    if (fresh.url) await store.knex.raw("ANALYZE audit_events");
    await store.close();
    const seedSeconds = (performance.now() - seeding) / 1000;

    const { child, address } = await startA2AProcess({ A2A_DATA_DIR: dataDir, DATABASE_URL: fresh.url ?? "" });
    cleanup.unshift(() => child.kill("SIGTERM"));
    const admin = JSON.parse(readFileSync(path.join(dataDir, "admin-credentials.json"), "utf8"));
    const a2a = connectA2A({ address, clientId: admin.client_id, clientSecret: admin.client_secret });
    cleanup.unshift(() => a2a.close());
    const { audit } = a2a;

    const who = identity(421);
    const day = new Date(Date.now() - 45 * 86_400_000);
    const deep = await audit.listAuditEvents({ pageSize: 1, pageToken: "", order: AuditOrder.AUDIT_ORDER_OLDEST_FIRST, startTime: day });
    const page = (filter: Parameters<typeof audit.listAuditEvents>[0]) => () => audit.listAuditEvents({ pageSize: 50, ...filter });
    const few = { requests: 400, concurrency: 4, warmup: 20 };
    const results: Result[] = [];
    results.push(await measure("newest page, no filter", page({}), few));
    results.push(await measure("by client_id", page({ clientId: who.clientId }), few));
    results.push(await measure("by application_id", page({ applicationId: who.applicationId }), few));
    results.push(await measure("by authorization_id", page({ authorizationId: who.authorizationId }), few));
    results.push(await measure("by peer CIDR /24", page({ peerIp: who.peerIp.replace(/\.\d+$/, ".0/24") }), few));
    results.push(await measure("by method", page({ method: "IntrospectToken" }), few));
    results.push(await measure("by resource", page({ resource: "billing" }), few));
    results.push(await measure("failures only", page({ failuresOnly: true }), few));
    results.push(await measure("by status code (PERMISSION_DENIED)", page({ statusCode: 7 }), few));
    results.push(await measure("client and failures only", page({ clientId: who.clientId, failuresOnly: true }), few));
    results.push(await measure("one day, oldest first", page({ startTime: day, endTime: new Date(day.getTime() + 86_400_000), order: AuditOrder.AUDIT_ORDER_OLDEST_FIRST }), few));
    results.push(await measure("a page in the middle of the trail (page token)", page({ pageToken: deep.nextPageToken, order: AuditOrder.AUDIT_ORDER_OLDEST_FIRST }), few));
    results.push(await measure("export a client's events (NDJSON)", async () => {
      for await (const _ of audit.exportAuditEvents({ filter: { clientId: who.clientId }, format: ExportFormat.EXPORT_FORMAT_NDJSON }));
    }, { requests: 40, concurrency: 2, warmup: 2 }));

    const verifying = performance.now();
    const report = await audit.verifyAuditChain({});
    const verifySeconds = (performance.now() - verifying) / 1000;
    if (!report.ok) throw new Error(`the seeded chain does not verify: ${report.message}`);

    const kind = fresh.url ? "PostgreSQL" : "embedded PGlite";
    process.stdout.write(`\nA2A audit trail benchmark — store: ${kind}; ${ROWS} records over ${DAYS} days (${ROWS / CLIENTS} per client); pages of 50, 4 in flight\n\n`);
    printTable(results);
    process.stdout.write(`\nseeded in ${seedSeconds.toFixed(1)} s; VerifyAuditChain over ${report.checked} records: ${verifySeconds.toFixed(1)} s (${Math.round(report.checked / verifySeconds)} records/s)\n`);
  } finally {
    for (const c of cleanup) await c();
  }
}

runBench(main);
