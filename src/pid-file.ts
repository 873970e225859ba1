import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * The embedded store (PGlite) allows one process at a time: the server records its PID in the
 * data dir so that tools refuse to open the store under it.
 */
export function writePidFile(dataDir: string): () => void {
  const file = path.join(dataDir, "a2a.pid");
  writeFileSync(file, `${process.pid}\n`);
  return () => rmSync(file, { force: true });
}

/** The PID of a live server using this data dir, or undefined. */
export function serverRunning(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dataDir, "a2a.pid"), "utf8").trim());
    if (!pid || pid === process.pid) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}
