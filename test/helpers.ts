import { PassThrough } from "node:stream";
import { randomBytes } from "node:crypto";
import { connectA2A, type A2AConnection } from "@a2a/sdk";
import { createAdministrator, type AdminCredentials } from "../src/bootstrap";
import { loadConfig, type Config } from "../src/config";
import { KeyRing } from "../src/domain/secrets";
import { createLogger } from "../src/logger";
import { startServer, type A2AServer } from "../src/server";

/** Servers sharing one PostgreSQL database must share the master key. */
const MASTER_KEY = process.env.DATABASE_URL ? Buffer.alloc(32, 7) : randomBytes(32);

export interface TestA2A {
  readonly server: A2AServer;
  readonly address: string;
  readonly admin: AdminCredentials;
  /** Admin, Token and Audit clients authenticated as the administrator. */
  readonly client: A2AConnection;
  /** Everything the server logged so far. */
  logs(): string;
  close(): Promise<void>;
}

/**
 * Starts A2A on 127.0.0.1:0: on PostgreSQL when DATABASE_URL is set, else an in-memory
 * PGlite store. Logs at debug level into memory so tests can scan them.
 */
export async function startA2A(overrides: Partial<Config> = {}): Promise<TestA2A> {
  const config: Config = {
    ...loadConfig({}),
    listen: "127.0.0.1:0",
    dataDir: ":memory:",
    databaseUrl: process.env.DATABASE_URL,
    masterKey: MASTER_KEY,
    logLevel: "debug",
    nodeName: "test-node",
    ...overrides,
  };
  let logText = "";
  const stream = new PassThrough();
  stream.on("data", (chunk: Buffer) => {
    logText += chunk.toString("utf8");
  });
  const server = await startServer(config, { logger: createLogger("debug", stream) });
  const admin =
    server.bootstrap ??
    (await createAdministrator(server.database.knex, new KeyRing(config.masterKey!), { onlyIfEmpty: false, createdBy: "test" }))!;
  const client = connectA2A({ address: server.address, clientId: admin.client_id, clientSecret: admin.client_secret });
  return {
    server,
    address: server.address,
    admin,
    client,
    logs: () => logText,
    async close() {
      client.close();
      await server.close(1000);
    },
  };
}

/** A name no other test (or earlier run on a shared database) uses. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** Awaits a promise that must reject with a gRPC status; returns the error. */
export async function rejects(promise: Promise<unknown>, code: number, message?: RegExp): Promise<{ code: number; details: string }> {
  try {
    await promise;
  } catch (e) {
    const err = e as { code: number; details: string };
    if (err.code !== code) throw new Error(`expected status ${code}, got ${err.code}: ${err.details}`);
    if (message && !message.test(err.details)) throw new Error(`expected details matching ${message}, got "${err.details}"`);
    return err;
  }
  throw new Error(`expected status ${code}, but the call succeeded`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
