import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Logger } from "./logger";

/**
 * The master key: A2A_MASTER_KEY when set; otherwise `master.key` in the data dir, created
 * on first start with mode 0600 (the embedded default). ":memory:" gets a throwaway key.
 */
export function loadMasterKey(configured: Buffer | undefined, dataDir: string, logger: Logger): Buffer {
  if (configured) return configured;
  if (dataDir === ":memory:") return randomBytes(32);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, "master.key");
  try {
    const key = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
    if (key.length !== 32) throw new Error(`${file}: must hold 32 bytes in base64`);
    if ((statSync(file).mode & 0o077) !== 0) logger.warn("master key file is readable by others; chmod 600 it", { file });
    return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  logger.info("created master key file", { file });
  return key;
}
