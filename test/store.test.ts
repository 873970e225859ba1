import assert from "node:assert/strict";
import { migrateLatest, openDatabase, rollbackAll } from "../src/store/db";
import { freshDatabase } from "./helpers";

describe("store: migrations", function () {
  it("apply, roll back with down() and apply again, on the configured store", async () => {
    const fresh = process.env.DATABASE_URL ? await freshDatabase() : undefined;
    const db = await openDatabase({ databaseUrl: fresh?.url, dataDir: ":memory:" });
    const tables = async () =>
      (await db.knex.raw("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'knex_%' AND tablename NOT LIKE 'audit_events_p%' ORDER BY 1")).rows.map((r: { tablename: string }) => r.tablename);
    const all = ["applications", "audit_chain", "audit_events", "authorizations", "grants", "oauth1_nonces", "resources", "revoked_tokens", "signing_keys"];
    try {
      assert.deepEqual(await tables(), all);
      assert.deepEqual(await db.knex("resources").select("name", "builtin"), [{ name: "a2a", builtin: true }]);
      await rollbackAll(db.knex);
      assert.deepEqual(await tables(), []);
      await migrateLatest(db.knex);
      assert.deepEqual(await tables(), all);
      await migrateLatest(db.knex); // idempotent
      assert.deepEqual(await db.knex("resources").select("name"), [{ name: "a2a" }]);
    } finally {
      await db.close();
      await fresh?.drop();
    }
  });
});
