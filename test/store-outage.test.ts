import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { rejects, sleep, startA2A } from "./helpers";
import { databaseBehindProxy } from "./support/proxy";

describe("store outage", function () {
  it("answers UNAVAILABLE while PostgreSQL is unreachable, stays up, and recovers by itself", async function () {
    if (!process.env.DATABASE_URL) return this.skip(); // PGlite runs in-process: it cannot become unreachable
    const db = await databaseBehindProxy();
    const { proxy } = db;
    const a2a = await startA2A({ databaseUrl: db.viaProxy });
    try {
      const { admin } = a2a.client;
      await admin.listResources({});
      await proxy.cut();
      const err = await rejects(admin.createResource({ resource: { name: "during-outage" } }), status.UNAVAILABLE);
      assert.doesNotMatch(err.details, /internal/i);
      await rejects(admin.listResources({}), status.UNAVAILABLE);
      await proxy.open();
      let recovered = false;
      for (let i = 0; i < 50 && !recovered; i++) {
        recovered = await admin.listResources({}).then(() => true, () => false);
        if (!recovered) await sleep(200);
      }
      assert.ok(recovered, "A2A answers again once the store is back");
      const names = (await admin.listResources({})).resources.map((r) => r.name);
      assert.ok(!names.includes("during-outage"), "nothing was half-written during the outage");
    } finally {
      await a2a.close();
      await db.drop();
    }
  });
});
