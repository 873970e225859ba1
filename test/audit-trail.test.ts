import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { AuthMethod, connectA2A, createClient, Permission, TokenServiceDefinition } from "@a2a/sdk";
import { AuditOrder, ChainProblem, ExportFormat, type AuditEvent } from "../sdk/src/gen/a2a/v1/audit_service";
import { dropExpiredPartitions } from "../src/store/audit";
import { collectPages, databaseUrlOf, rejects, sleep, startA2A, unique, type TestA2A } from "./helpers";

/** Reads a live tail until `count` events arrived (or `ms` passed), then cancels it. */
async function tail(a2a: TestA2A, request: Parameters<TestA2A["client"]["audit"]["tailAuditEvents"]>[0], count: number, during: () => Promise<unknown>, ms = 5000): Promise<AuditEvent[]> {
  const stop = new AbortController();
  const got: AuditEvent[] = [];
  const reading = (async () => {
    try {
      for await (const r of a2a.client.audit.tailAuditEvents(request, { signal: stop.signal })) {
        got.push(r.event!);
        if (got.length >= count) stop.abort();
      }
    } catch (e) {
      if ((e as { code?: number }).code !== status.CANCELLED) throw e;
    }
  })();
  await sleep(300); // the tail is open and audited before the work starts
  await during();
  const timer = setTimeout(() => stop.abort(), ms);
  await reading;
  clearTimeout(timer);
  return got;
}

const WRONG = "not-the-secret-7f3a9c";

describe("audit trail: chain, redaction, search, tail, export", function () {
  let a2a: TestA2A;
  let erp: { clientId: string; clientSecret: string; id: string };
  let accessToken: string;
  const token = () => createClient(TokenServiceDefinition, a2a.address);

  before(async () => {
    a2a = await startA2A();
    const { admin } = a2a.client;
    await admin.createResource({ resource: { name: "pam-core" } });
    const app = await admin.createApplication({ application: { name: "=HYPERLINK(\"http://evil\")", authMethod: AuthMethod.AUTH_METHOD_OAUTH2 } });
    const created = await admin.createAuthorization({
      authorization: { applicationId: app.application!.id, grants: [{ resource: "pam-core", permission: Permission.PERMISSION_READ }], allowedIps: ["*"] },
    });
    erp = { ...created.credentials!, id: created.authorization!.id };
    const t = token();
    accessToken = (await t.issueToken({ grantType: "client_credentials", clientId: erp.clientId, clientSecret: erp.clientSecret })).accessToken;
    await rejects(t.issueToken({ grantType: "client_credentials", clientId: erp.clientId, clientSecret: WRONG }), status.UNAUTHENTICATED);
    t.close();
    await a2a.client.token.introspectToken({ token: accessToken });
  });
  after(() => a2a?.close());

  describe("hash chain", () => {
    const db = () => a2a.server.database.knex;
    const verify = (range = {}) => a2a.client.audit.verifyAuditChain(range);

    it("every record carries the hash of the one before it; the chain verifies", async () => {
      const { events } = await a2a.client.audit.listAuditEvents({ order: AuditOrder.AUDIT_ORDER_OLDEST_FIRST, pageSize: 1000 });
      assert.equal(events[0].id, "1");
      assert.equal(events[0].prevHash, "0".repeat(64));
      for (let i = 1; i < events.length; i++) {
        assert.equal(Number(events[i].id), Number(events[i - 1].id) + 1, "ids are gapless");
        assert.equal(events[i].prevHash, events[i - 1].hash);
        assert.ok(events[i].time! >= events[i - 1].time!, "times never go back along the chain");
      }
      const r = await verify();
      assert.equal(r.ok, true, r.message);
      assert.ok(r.checked >= events.length);
      assert.equal(r.chainStartId, "1");
      const head = await db()("audit_chain").first();
      assert.equal(Number(head.head_id), Number(r.headId) + 1, "the head moved by the verify call's own record");
      assert.equal((await verify({ fromId: "2", toId: "4" })).checked, 3);
    });

    it("catches a record edited in the database, and names it", async () => {
      const row = await db()("audit_events").where({ id: 3 }).first();
      await db()("audit_events").where({ id: 3 }).update({ error: "nothing to see here" });
      try {
        const r = await verify();
        assert.deepEqual([r.ok, r.firstBadId, r.problem], [false, "3", ChainProblem.CHAIN_PROBLEM_ALTERED]);
        assert.match(r.message, /record 3's content does not match its hash/);
        // A range after the edit still verifies; one that includes it does not.
        assert.equal((await verify({ fromId: "4" })).ok, true);
        assert.equal((await verify({ fromId: "2", toId: "3" })).ok, false);
      } finally {
        await db()("audit_events").where({ id: 3 }).update({ error: row.error });
      }
      assert.equal((await verify()).ok, true);
    });

    it("catches a record deleted from the database", async () => {
      const row = await db()("audit_events").where({ id: 4 }).first();
      await db()("audit_events").where({ id: 4 }).delete("id");
      try {
        const r = await verify();
        assert.deepEqual([r.ok, r.firstBadId, r.problem], [false, "4", ChainProblem.CHAIN_PROBLEM_REMOVED]);
      } finally {
        await db()("audit_events").insert(row);
      }
      assert.equal((await verify()).ok, true);
    });

    it("catches records inserted into the database: a forged copy, and one past the head", async () => {
      const row = await db()("audit_events").where({ id: 5 }).first();
      const forged = { ...row, time: new Date(new Date(row.time).getTime() + 1), error: null, status_code: 0, request_id: "00000000-0000-4000-8000-000000000000" };
      await db()("audit_events").insert(forged);
      try {
        const r = await verify();
        assert.deepEqual([r.ok, r.firstBadId, r.problem], [false, "5", ChainProblem.CHAIN_PROBLEM_INSERTED]);
      } finally {
        await db()("audit_events").where({ id: 5, request_id: forged.request_id }).delete("id");
      }
      const head = await db()("audit_chain").first();
      const beyond = { ...row, id: Number(head.head_id) + 1000, time: new Date() };
      await db()("audit_events").insert(beyond);
      try {
        const r = await verify();
        assert.deepEqual([r.ok, r.problem], [false, ChainProblem.CHAIN_PROBLEM_INSERTED]);
        assert.equal(r.firstBadId, String(beyond.id));
      } finally {
        await db()("audit_events").where({ id: beyond.id }).delete("id");
      }
      assert.equal((await verify()).ok, true);
    });

    it("refuses bad ranges naming the field", async () => {
      await rejects(a2a.client.audit.verifyAuditChain({ fromId: "x" }), status.INVALID_ARGUMENT, /^from_id: must be an event id/);
      await rejects(a2a.client.audit.verifyAuditChain({ fromId: "9", toId: "3" }), status.INVALID_ARGUMENT, /^to_id: must not be below from_id/);
    });
  });

  describe("sensitive data", () => {
    it("the request is a redacted summary: tokens as HMACs, never secrets; HashValue finds them", async () => {
      const { hash } = await a2a.client.audit.hashValue({ value: accessToken });
      assert.match(hash, /^hmac-sha256:[0-9a-f]{64}$/);
      const { events } = await a2a.client.audit.listAuditEvents({ requestText: hash });
      const methods = events.map((e) => e.method.split("/").pop());
      assert.ok(methods.includes("IntrospectToken"), `found: ${methods}`);
      const introspect = events.find((e) => e.method.endsWith("IntrospectToken"))!;
      assert.deepEqual(JSON.parse(introspect.request), { token: hash });
      // The HashValue call itself recorded only the HMAC too.
      assert.ok(methods.includes("HashValue"));

      const issued = (await a2a.client.audit.listAuditEvents({ clientId: erp.clientId, method: "IssueToken" })).events;
      for (const e of issued) {
        const request = JSON.parse(e.request);
        assert.equal(request.clientSecret, "[redacted]");
        assert.equal(request.clientId, erp.clientId);
      }
      const created = (await a2a.client.audit.listAuditEvents({ method: "CreateAuthorization" })).events[0];
      assert.deepEqual(JSON.parse(created.request).authorization.grants, [{ resource: "pam-core", permission: 1 }]);
      // Every secret and token of the run so far: none in the table, none in the logs.
      const used = [erp.clientSecret, accessToken, a2a.admin.client_secret, WRONG, await a2a.client.tokens!.getToken()];
      const table = JSON.stringify(await a2a.server.database.knex("audit_events").select());
      const logs = a2a.logs();
      assert.ok(logs.includes("IntrospectToken") && table.includes(erp.clientId), "the table and the logs were read");
      for (const secret of used) {
        assert.ok(!table.includes(secret) && !table.includes(secret.slice(0, 40)), `the trail holds ${secret.slice(0, 10)}…`);
        assert.ok(!logs.includes(secret) && !logs.includes(secret.slice(0, 40)), `the logs hold ${secret.slice(0, 10)}…`);
      }
      await rejects(a2a.client.audit.hashValue({ value: "" }), status.INVALID_ARGUMENT, /^value: is required/);
    });
  });

  describe("search", () => {
    it("by resource, oldest or newest first, with stable paging in both orders", async () => {
      const byResource = (await a2a.client.audit.listAuditEvents({ resource: "pam-core" })).events;
      assert.ok(byResource.length >= 1 && byResource.every((e) => e.resource === "pam-core"));
      for (const order of [AuditOrder.AUDIT_ORDER_NEWEST_FIRST, AuditOrder.AUDIT_ORDER_OLDEST_FIRST]) {
        const { all, pages } = await collectPages((pageToken) => a2a.client.audit.listAuditEvents({ pageSize: 3, pageToken, order }), (p) => p.events);
        const ids = all.map((e) => Number(e.id));
        assert.ok(pages.length > 2);
        assert.deepEqual(ids, [...ids].sort((a, b) => (order === AuditOrder.AUDIT_ORDER_OLDEST_FIRST ? a - b : b - a)));
        assert.equal(new Set(ids).size, ids.length, "no event twice");
      }
      const first = await a2a.client.audit.listAuditEvents({ pageSize: 2, order: AuditOrder.AUDIT_ORDER_OLDEST_FIRST });
      await rejects(a2a.client.audit.listAuditEvents({ pageSize: 2, pageToken: first.nextPageToken }), status.INVALID_ARGUMENT, /^page_token: .*with this order/);
      await rejects(a2a.client.audit.listAuditEvents({ resource: "Not A Resource" }), status.INVALID_ARGUMENT, /^resource: /);
    });
  });

  describe("live tail", () => {
    it("streams matching events as they are committed, and nothing else", async () => {
      const t = token();
      try {
        const got = await tail(a2a, { filter: { clientId: erp.clientId, failuresOnly: true } }, 2, async () => {
          await t.issueToken({ grantType: "client_credentials", clientId: erp.clientId, clientSecret: erp.clientSecret }); // OK: not sent
          await rejects(t.issueToken({ grantType: "client_credentials", clientId: erp.clientId, clientSecret: "bad-1" }), status.UNAUTHENTICATED);
          await a2a.client.admin.listResources({}); // another client: not sent
          await rejects(t.issueToken({ grantType: "client_credentials", clientId: erp.clientId, clientSecret: "bad-2" }), status.UNAUTHENTICATED);
        });
        assert.equal(got.length, 2);
        assert.ok(got.every((e) => e.clientId === erp.clientId && e.statusCode === status.UNAUTHENTICATED));
        assert.ok(Number(got[1].id) > Number(got[0].id));
        // Resuming after the first one sends the second again, then waits for new ones.
        const resumed = await tail(a2a, { filter: { clientId: erp.clientId, failuresOnly: true }, afterId: got[0].id }, 1, async () => undefined, 1000);
        assert.deepEqual(resumed.map((e) => e.id), [got[1].id]);
      } finally {
        t.close();
      }
      const opened = (await a2a.client.audit.listAuditEvents({ method: "TailAuditEvents" })).events;
      assert.ok(opened.length >= 2, "each tail is itself audited");
      await rejects((async () => {
        for await (const _ of a2a.client.audit.tailAuditEvents({ filter: { peerIp: "nope" } })) void _;
      })(), status.INVALID_ARGUMENT, /^filter\.peer_ip: /);
    });

    it("a tail whose filter matches nothing moves on past what it read", async () => {
      // The reads the tail makes: its cursor is the first binding ("id" > ?).
      const cursors: number[] = [];
      const nobody = `a2a_ci_${"0".repeat(22)}`;
      const spy = (q: { sql: string; bindings?: unknown[] }) => {
        if (/from "audit_events" where "id" > (\?|\$1) and "client_id" = (\?|\$2)/.test(q.sql) && q.bindings?.[1] === nobody) cursors.push(Number(q.bindings[0]));
      };
      const db = a2a.server.database.knex;
      db.on("query", spy);
      let last = 0;
      try {
        const got = await tail(a2a, { filter: { clientId: nobody } }, 1, async () => {
          for (let i = 0; i < 5; i++) await a2a.client.admin.listResources({});
          last = Number((await db("audit_events").max({ id: "id" }))[0].id);
          await sleep(800); // a poll (or a commit) after the last of them
        }, 100);
        assert.equal(got.length, 0);
      } finally {
        db.off("query", spy);
      }
      assert.ok(cursors.length >= 2, `the tail read ${cursors.length} times`);
      assert.ok(Math.max(...cursors) >= last, `the cursor reached ${Math.max(...cursors)}, the events went up to ${last}`);
    });
  });

  describe("export", () => {
    const read = async (format: ExportFormat, filter = {}) => {
      const chunks: Buffer[] = [];
      for await (const c of a2a.client.audit.exportAuditEvents({ format, filter })) chunks.push(Buffer.from(c.data));
      return Buffer.concat(chunks).toString("utf8");
    };

    it("NDJSON and CSV, oldest first, the same events as the list", async () => {
      const listed = (await a2a.client.audit.listAuditEvents({ pageSize: 1000, clientId: erp.clientId, order: AuditOrder.AUDIT_ORDER_OLDEST_FIRST })).events;
      const ndjson = (await read(ExportFormat.EXPORT_FORMAT_NDJSON, { clientId: erp.clientId })).trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(ndjson.map((e) => e.id), listed.map((e) => e.id));
      assert.deepEqual(Object.keys(ndjson[0]).slice(0, 4), ["id", "time", "node", "request_id"]);
      assert.equal(ndjson[0].hash, listed[0].hash);

      const csv = await read(ExportFormat.EXPORT_FORMAT_CSV);
      const lines = csv.split("\r\n").filter(Boolean);
      assert.equal(lines[0], "id,time,node,request_id,peer_ip,client_id,application_id,application_name,authorization_id,method,resource,status_code,status,error,duration_ms,user_agent,referer,target,request,prev_hash,hash");
      const total = (await collectPages((pageToken) => a2a.client.audit.listAuditEvents({ pageSize: 1000, pageToken }), (p) => p.events)).all.length;
      assert.ok(lines.length - 1 >= total - 1, `${lines.length - 1} rows for ${total} events`);
      // A cell a spreadsheet would run as a formula is defused.
      assert.ok(csv.includes(`"'=HYPERLINK(""http://evil"")"`), "formula cell prefixed and quoted");
      await rejects(read(ExportFormat.EXPORT_FORMAT_UNSPECIFIED), status.INVALID_ARGUMENT, /^format: is required/);
    });
  });

  describe("retention", () => {
    it("drops old month partitions and records where the kept chain starts; what is kept still verifies", async () => {
      const db = a2a.server.database.knex;
      const before = await db("audit_chain").first();
      // As if two months had passed, keeping one month: this month's partition goes.
      const now = new Date();
      const dropped = await dropExpiredPartitions(db, 1, new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 2, 1)));
      assert.ok(dropped.length >= 1, "a partition was dropped");
      const after = await db("audit_chain").first();
      // Every record so far was in the dropped month: the kept chain starts after the head.
      assert.equal(Number(after.start_id), Number(before.head_id) + 1);
      assert.equal(after.start_prev_hash, before.head_hash);
      // New calls land in a recreated partition and continue the chain.
      await a2a.client.admin.listResources({});
      await a2a.client.admin.createResource({ resource: { name: unique("after-retention") } });
      const r = await a2a.client.audit.verifyAuditChain({});
      assert.equal(r.ok, true, r.message);
      assert.equal(r.chainStartId, String(after.start_id));
      const oldest = (await a2a.client.audit.listAuditEvents({ order: AuditOrder.AUDIT_ORDER_OLDEST_FIRST, pageSize: 1 })).events[0];
      assert.equal(oldest.id, String(after.start_id));
    });
  });
});

describe("audit trail: several nodes on one PostgreSQL write one chain", function () {
  it("concurrent calls on two nodes give gapless ids and a chain that verifies; a tail on one streams the other's records", async function () {
    if (!process.env.DATABASE_URL) {
      console.log("      SKIPPED: needs DATABASE_URL (the embedded store is one process)");
      return this.skip();
    }
    const first = await startA2A({ nodeName: "node-a" });
    const second = await startA2A({ nodeName: "node-b", databaseUrl: databaseUrlOf(first) });
    const other = connectA2A({ address: second.address, clientId: first.admin.client_id, clientSecret: first.admin.client_secret });
    try {
      await Promise.all([
        ...Array.from({ length: 40 }, () => first.client.admin.listResources({})),
        ...Array.from({ length: 40 }, () => other.admin.listResources({})),
        ...Array.from({ length: 5 }, (_, i) => other.admin.createResource({ resource: { name: `node-b-${i}` } })),
        ...Array.from({ length: 5 }, (_, i) => first.client.admin.createResource({ resource: { name: `node-a-${i}` } })),
      ]);
      const r = await first.client.audit.verifyAuditChain({});
      assert.equal(r.ok, true, r.message);
      const nodes = await first.server.database.knex("audit_events").distinct("node").pluck("node");
      assert.deepEqual(nodes.sort(), ["node-a", "node-b"]);
      const ids = (await first.server.database.knex("audit_events").orderBy("id").pluck("id")).map(Number);
      assert.deepEqual(ids, Array.from({ length: ids.length }, (_, i) => i + 1));

      // A tail on one node streams what the other node commits.
      const live = await tail(first, { filter: { method: "CreateResource" } }, 2, async () => {
        await other.admin.createResource({ resource: { name: "node-b-live-1" } });
        await other.admin.createResource({ resource: { name: "node-b-live-2" } });
      });
      assert.deepEqual(live.map((e) => [e.node, e.target]), [["node-b", "resource node-b-live-1"], ["node-b", "resource node-b-live-2"]]);
    } finally {
      other.close();
      await second.close();
      await first.close();
    }
  });
});
