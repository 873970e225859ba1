import { PassThrough } from "node:stream";
import { randomBytes } from "node:crypto";
import pg from "pg";
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

/** Runs one statement on the DATABASE_URL's database (to create and drop test databases). */
async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A fresh PostgreSQL database for one test server, next to DATABASE_URL's, so that every
 * server starts empty as on the embedded store. Returns its URL and a function to drop it.
 */
export async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `a2a_t_${randomBytes(6).toString("hex")}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/**
 * Starts A2A on 127.0.0.1:0: on PostgreSQL when DATABASE_URL is set (a fresh database per
 * server unless `databaseUrl` is given), else an in-memory PGlite store. Logs at debug level
 * into memory so tests can scan them.
 */
export async function startA2A(overrides: Partial<Config> = {}): Promise<TestA2A> {
  const fresh = process.env.DATABASE_URL && !overrides.databaseUrl ? await freshDatabase() : undefined;
  const config: Config = {
    ...loadConfig({}),
    listen: "127.0.0.1:0",
    dataDir: ":memory:",
    databaseUrl: fresh?.url,
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
      await fresh?.drop();
    },
  };
}

/** The PostgreSQL URL a test server runs on (to start a second node on the same database). */
export function databaseUrlOf(a2a: TestA2A): string {
  if (!a2a.server.database.url) throw new Error("this server does not run on PostgreSQL");
  return a2a.server.database.url;
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

/**
 * Follows next_page_token until the last page; returns every item and the number of pages.
 * `fetch` asks for one page; `items` picks the page's list.
 */
export async function collectPages<P extends { nextPageToken: string }, T>(
  fetch: (pageToken: string) => Promise<P>,
  items: (page: P) => T[],
): Promise<{ all: T[]; pages: P[] }> {
  const all: T[] = [];
  const pages: P[] = [];
  let pageToken = "";
  do {
    const page = await fetch(pageToken);
    pages.push(page);
    all.push(...items(page));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return { all, pages };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
