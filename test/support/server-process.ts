import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const ROOT = path.join(__dirname, "..", "..");

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly address: string;
  stdout(): string;
  stderr(): string;
}

/**
 * Starts `node --import tsx src/main.ts` (what `npm start` runs) as its own process, with `env`
 * over this process's environment, and waits for its "A2A listening" log line (60 s at most).
 */
export async function spawnServer(env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: ROOT,
    env: { ...process.env, A2A_LISTEN: "127.0.0.1:0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "A2A listening" within 60 s\n${out}\n${err}`)), 60_000);
    child.stdout!.on("data", (d) => {
      out += d;
      const m = out.match(/"address":"([^"]+)","level":"info","message":"A2A listening"/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}\n${out}\n${err}`));
    });
  });
  return { child, address, stdout: () => out, stderr: () => err };
}
