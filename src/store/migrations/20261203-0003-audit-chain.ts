import type { Knex } from "knex";
import { chainHash, GENESIS, partitionOf } from "../audit";
import { auditEventsV1 } from "./20261203-0001-initial";

const COLUMNS = [
  "time", "request_id", "node", "peer_ip", "client_id", "application_id", "application_name", "authorization_id", "method",
  "resource", "status_code", "error", "duration_ms", "user_agent", "referer", "target",
];

/**
 * The audit trail becomes a hash chain in a table partitioned by month (PostgreSQL
 * declarative partitioning), with indexes for the filters auditors use. Existing records are
 * carried over in their order and chained.
 */
export const auditChain = {
  name: "20261203-0003-audit-chain",

  async up(knex: Knex): Promise<void> {
    await knex.schema.renameTable("audit_events", "audit_events_v1");
    await knex.raw(`
      CREATE TABLE audit_events (
        id bigint NOT NULL,
        time timestamptz NOT NULL,
        request_id uuid NOT NULL,
        node text NOT NULL,
        peer_ip inet,
        client_id text,
        application_id uuid,
        application_name text,
        authorization_id uuid,
        method text NOT NULL,
        resource text,
        status_code integer NOT NULL,
        error text,
        duration_ms double precision NOT NULL,
        user_agent text,
        referer text,
        target text,
        request jsonb,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        PRIMARY KEY (id, time)
      ) PARTITION BY RANGE (time)`);
    // One index per filter, each ending in id so a filtered page is read in id order.
    for (const [name, columns] of [
      ["time", "time, id"], ["client", "client_id, id"], ["application", "application_id, id"], ["authorization", "authorization_id, id"],
      ["method", "method, id"], ["resource", "resource, id"], ["status", "status_code, id"], ["request_id", "request_id"],
    ]) {
      await knex.raw(`CREATE INDEX audit_events_${name} ON audit_events (${columns})`);
    }
    await knex.raw("CREATE INDEX audit_events_failures ON audit_events (id) WHERE status_code <> 0");
    await knex.raw("CREATE INDEX audit_events_peer ON audit_events USING gist (peer_ip inet_ops)");

    await knex.schema.createTable("audit_chain", (t) => {
      t.integer("id").primary();
      t.bigInteger("head_id").notNullable();
      t.text("head_hash").notNullable();
      t.timestamp("head_time", { useTz: true }).notNullable();
      // Where the kept chain starts: records before it were dropped by retention.
      t.bigInteger("start_id").notNullable();
      t.text("start_prev_hash").notNullable();
    });

    const old = await knex("audit_events_v1").orderBy("id").select();
    let prev = GENESIS;
    let id = 0;
    let time = new Date(0);
    const rows = [];
    for (const r of old) {
      id++;
      // Times must not go backwards along the chain (partitions hold contiguous ranges).
      time = new Date(Math.max(new Date(r.time).getTime(), time.getTime()));
      const content = { ...Object.fromEntries(COLUMNS.map((c) => [c, r[c] ?? null])), id, time, request: null } as never as Parameters<typeof chainHash>[1];
      const hash = chainHash(prev, content);
      rows.push({ ...content, prev_hash: prev, hash });
      prev = hash;
    }
    const months = new Map([...rows.map((r) => r.time as Date), new Date()].map((t) => [partitionOf(t).name, partitionOf(t)]));
    for (const p of months.values()) {
      await knex.raw(`CREATE TABLE IF NOT EXISTS ?? PARTITION OF audit_events FOR VALUES FROM ('${p.from}') TO ('${p.to}')`, [p.name]);
    }
    for (let i = 0; i < rows.length; i += 500) await knex("audit_events").insert(rows.slice(i, i + 500));
    await knex("audit_chain").insert({ id: 1, head_id: id, head_hash: prev, head_time: rows.length ? time : new Date(0), start_id: 1, start_prev_hash: GENESIS });
    await knex.schema.dropTable("audit_events_v1");
  },

  async down(knex: Knex): Promise<void> {
    await knex.schema.createTable("audit_events_v1", auditEventsV1);
    await knex.raw(`INSERT INTO audit_events_v1 (${COLUMNS.join(", ")}) SELECT ${COLUMNS.join(", ")} FROM audit_events ORDER BY id`);
    await knex.schema.dropTable("audit_events");
    await knex.schema.dropTable("audit_chain");
    await knex.schema.renameTable("audit_events_v1", "audit_events");
  },
};
