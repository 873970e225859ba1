import net from "node:net";
import { freshDatabase } from "../helpers";

/** A TCP proxy to PostgreSQL on loopback that a test can cut and restore. */
export class CuttableProxy {
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

/** A fresh PostgreSQL database reached through a cuttable proxy: give A2A `viaProxy`. */
export async function databaseBehindProxy(): Promise<{ url: string; viaProxy: string; proxy: CuttableProxy; drop(): Promise<void> }> {
  const db = await freshDatabase();
  const target = new URL(db.url);
  const proxy = new CuttableProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await proxy.open();
  const viaProxy = new URL(db.url);
  viaProxy.port = String(proxy.port);
  return {
    url: db.url, viaProxy: viaProxy.toString(), proxy,
    async drop() {
      await proxy.cut().catch(() => undefined);
      await db.drop();
    },
  };
}
