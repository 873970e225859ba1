import assert from "node:assert/strict";
import net from "node:net";
import { status } from "@grpc/grpc-js";
import { freshDatabase, rejects, sleep, startA2A } from "./helpers";

/** A TCP proxy to PostgreSQL on loopback that a test can cut and restore. */
class CuttableProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.server!.address() as net.AddressInfo).port;
  }

  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

describe("store outage", function () {
  it("answers UNAVAILABLE while PostgreSQL is unreachable, stays up, and recovers by itself", async function () {
    if (!process.env.DATABASE_URL) return this.skip(); // PGlite runs in-process: it cannot become unreachable
    const db = await freshDatabase();
    const target = new URL(db.url);
    const proxy = new CuttableProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.open();
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    const a2a = await startA2A({ databaseUrl: viaProxy.toString() });
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
      await proxy.cut().catch(() => undefined);
      await db.drop();
    }
  });
});
