import { mkdirSync } from "node:fs";
import path from "node:path";
import knex, { type Knex } from "knex";
import ClientPgLite from "knex-pglite";
import { initial } from "./migrations/20261203-0001-initial";
import { oauth1Aws } from "./migrations/20261203-0002-oauth1-aws";
import { auditChain } from "./migrations/20261203-0003-audit-chain";

/** Migrations in order; each has up() and down(). */
const MIGRATIONS = [initial, oauth1Aws, auditChain];

const migrationSource: Knex.MigrationSource<(typeof MIGRATIONS)[number]> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: (m) => m.name,
  getMigration: async (m) => m,
};

export interface DatabaseOptions {
  /** PostgreSQL through `pg` when set. */
  readonly databaseUrl?: string;
  /** Otherwise the embedded PGlite store under this folder; ":memory:" keeps it in memory. */
  readonly dataDir: string;
  /** Where the driver's warnings go (default: nowhere). */
  readonly log?: (level: "warn" | "error", message: string) => void;
}

export interface Database {
  /**
   * On PGlite (knex-pglite 0.14), a bare `.delete()` resolves to a raw response, not a row
   * count: use `.delete("column")` and count the rows it returns.
   */
  readonly knex: Knex;
  /** "postgres" or "pglite" (one connection: never use the pool inside a transaction). */
  readonly kind: "postgres" | "pglite";
  /** The PostgreSQL URL, when kind is "postgres". */
  readonly url?: string;
  close(): Promise<void>;
}

/** Knex's own warnings (a connection lost, a pool error) go to our logger, not the console. */
function knexLog(log: DatabaseOptions["log"]): Knex.Config["log"] {
  const warn = (message: unknown) => log?.("warn", String(message));
  return { warn, error: (message: unknown) => log?.("error", String(message)), deprecate: warn, debug: () => undefined };
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  let db: Knex;
  let kind: Database["kind"];
  if (options.databaseUrl) {
    kind = "postgres";
    db = knex({ client: "pg", connection: options.databaseUrl, pool: { min: 0, max: 10 }, log: knexLog(options.log) });
  } else {
    kind = "pglite";
    let connection: { filename?: string } = {};
    if (options.dataDir !== ":memory:") {
      const dir = path.join(options.dataDir, "pgdata");
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      connection = { filename: dir };
    }
    db = knex({ client: ClientPgLite, dialect: "postgres", connection } as Knex.Config);
  }
  await migrateLatest(db);
  return { knex: db, kind, url: options.databaseUrl, close: () => db.destroy() };
}

/** Applies the migrations not yet applied (knex's lock table serialises nodes starting together). */
export async function migrateLatest(db: Knex): Promise<void> {
  await db.migrate.latest({ migrationSource });
}

/** Runs every migration's down(), newest first. */
export async function rollbackAll(db: Knex): Promise<void> {
  await db.migrate.rollback({ migrationSource }, true);
}
