import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { AuditWriter, type AuditRecord } from "../src/store/audit";
import { verifyChain } from "../src/store/audit-queries";
import { openDatabase, type Database } from "../src/store/db";
import { freshDatabase } from "./helpers";

const record = (i: number): AuditRecord => ({
  requestId: randomUUID(), node: "writer-test", method: "/a2a.v1.AdminService/ListResources", statusCode: 0, durationMs: 1, target: `call ${i}`,
});

describe("audit writer: group commit", function () {
  let fresh: { url: string; drop(): Promise<void> } | undefined;
  let db: Database;
  /** The statements that appended to the trail, each with how many records it carried. */
  let appends: number[];

  before(async () => {
    fresh = process.env.DATABASE_URL ? await freshDatabase() : undefined;
    db = await openDatabase({ databaseUrl: fresh?.url, dataDir: ":memory:" });
    db.knex.on("query", (q: { sql: string; bindings?: unknown[] }) => {
      if (/INSERT INTO audit_events/.test(q.sql)) appends.push(((q.bindings?.length ?? 0) - 5) / 20);
    });
  });
  after(async () => {
    await db?.close();
    await fresh?.drop();
  });

  it("writes the records that arrive while a batch is in flight as one multi-row INSERT, and resolves each once committed", async () => {
    appends = [];
    const writer = new AuditWriter(db.knex);
    const committed: number[] = [];
    writer.on("committed", () => committed.push(appends.length));
    // 300 calls at once: the first batch carries the first record, the next one the 299 that queued meanwhile.
    const settled = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => writer.write(record(i))));
    assert.ok(settled.every((s) => s.status === "fulfilled"));
    assert.deepEqual(appends, [1, 299], "two statements for 300 records");
    assert.deepEqual(committed, [1, 2], "each batch announced after its statement");

    // Every record is there, in the order written, and the chain holds.
    const rows = await db.knex("audit_events").where({ node: "writer-test" }).orderBy("id").select("id", "target");
    assert.deepEqual(rows.map((r: { target: string }) => r.target), Array.from({ length: 300 }, (_, i) => `call ${i}`));
    const ids = rows.map((r: { id: string | number }) => Number(r.id));
    assert.deepEqual(ids, ids.map((_, i) => ids[0] + i), "gapless ids");
    assert.equal((await verifyChain(db.knex)).ok, true);
  });

  it("caps a batch at its maximum size", async () => {
    appends = [];
    const writer = new AuditWriter(db.knex, 100);
    await Promise.all(Array.from({ length: 251 }, (_, i) => writer.write(record(i))));
    assert.deepEqual(appends, [1, 100, 100, 50]);
  });

  it("rejects every record of a batch the store refused, and writes the next batch once it can", async () => {
    appends = [];
    const writer = new AuditWriter(db.knex);
    await writer.ready();
    // A record the store cannot take (request_id is a uuid column) fails its whole batch: nothing half-written.
    const before = Number((await db.knex("audit_events").count({ n: "*" }))[0].n);
    const first = writer.write(record(0));
    const batch = [writer.write({ ...record(1), requestId: "not-a-uuid" }), writer.write(record(2))];
    await first;
    const outcome = await Promise.allSettled(batch);
    assert.deepEqual(outcome.map((o) => o.status), ["rejected", "rejected"]);
    assert.equal(Number((await db.knex("audit_events").count({ n: "*" }))[0].n), before + 1);
    await writer.write(record(3));
    assert.equal(Number((await db.knex("audit_events").count({ n: "*" }))[0].n), before + 2);
    assert.equal((await verifyChain(db.knex)).ok, true);
  });
});
