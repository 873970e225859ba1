import { loadConfig } from "./config";
import { createLogger } from "./logger";
import { serverRunning, writePidFile } from "./pid-file";
import { startServer } from "./server";

/** Start-up: config -> server; SIGTERM/SIGINT shut down gracefully. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    process.stderr.write(`a2a: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel);
  if (!config.databaseUrl && config.dataDir !== ":memory:") {
    const other = serverRunning(config.dataDir);
    if (other) throw new Error(`another A2A server (pid ${other}) uses the embedded store in ${config.dataDir}`);
  }
  const server = await startServer(config, { logger });
  const removePid = !config.databaseUrl && config.dataDir !== ":memory:" ? writePidFile(config.dataDir) : () => undefined;
  if (server.bootstrap) {
    // For the person at the terminal, once; not a log line (logs never carry secrets).
    process.stderr.write(
      [
        "",
        "A2A administrator created. Keep these credentials safe; they are shown only this once:",
        `  client_id:     ${server.bootstrap.client_id}`,
        `  client_secret: ${server.bootstrap.client_secret}`,
        config.dataDir === ":memory:" ? "" : `  (also written to ${config.dataDir}/admin-credentials.json, mode 0600)`,
        "",
      ].join("\n") + "\n",
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    server.close().then(
      () => {
        removePid();
        process.exit(0);
      },
      (error) => {
        logger.error("shutdown failed", { error });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error) => {
  process.stderr.write(`a2a: could not start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
