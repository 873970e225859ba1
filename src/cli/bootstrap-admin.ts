/**
 * Creates administrator credentials (READ_WRITE on "a2a") directly in the store and prints
 * them as JSON on stdout. For PostgreSQL deployments, and to recover when the administrator's
 * secret is lost: whoever can reach the database and the master key is already trusted.
 *
 *   DATABASE_URL=postgres://… A2A_MASTER_KEY=… npm run bootstrap-admin [-- --write-file]
 */
import { createAdministrator, writeAdminCredentials } from "../bootstrap";
import { loadConfig } from "../config";
import { KeyRing } from "../domain/secrets";
import { createLogger } from "../logger";
import { loadMasterKey } from "../master-key";
import { openDatabase } from "../store/db";
import { serverRunning } from "../pid-file";

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl && serverRunning(config.dataDir)) {
    throw new Error(`the A2A server (pid ${serverRunning(config.dataDir)}) has the embedded store in ${config.dataDir} open; stop it first`);
  }
  const logger = createLogger("warn", process.stderr);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const ring = new KeyRing(loadMasterKey(config.masterKey, config.dataDir, logger));
    const creds = (await createAdministrator(database.knex, ring, { onlyIfEmpty: false, createdBy: "bootstrap-admin" }))!;
    if (process.argv.includes("--write-file")) {
      process.stderr.write(`written to ${writeAdminCredentials(config.dataDir, creds)} (mode 0600)\n`);
    }
    process.stdout.write(`${JSON.stringify(creds, null, 2)}\n`);
  } finally {
    await database.close();
  }
}

main().catch((e) => {
  process.stderr.write(`bootstrap-admin: ${(e as Error).message}\n`);
  process.exit(1);
});
