/**
 * What every benchmark shares: A2A started as its own process on loopback, a bounded measuring
 * loop, and the table the figures are printed as.
 */
import { spawnServer, type ServerProcess } from "../test/support/server-process";

export const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
export const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
export const TIME_LIMIT_MS = Number(process.env.BENCH_SECONDS ?? 20) * 1000;

/** A2A as its own process (the tests' `spawnServer`), logging at info level. */
export function startA2AProcess(env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  return spawnServer({ A2A_LOG_LEVEL: "info", ...env });
}

export interface Result {
  readonly name: string;
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

/**
 * Runs `op` REQUESTS times (or `options.requests`) with CONCURRENCY in flight (or
 * `options.concurrency`), bounded by the time limit, after a warm-up.
 */
export async function measure(
  name: string,
  op: () => Promise<unknown>,
  options: { requests?: number; concurrency?: number; warmup?: number } = {},
): Promise<Result> {
  const requests = options.requests ?? REQUESTS;
  for (let i = 0; i < (options.warmup ?? 200); i++) await op(); // JIT, caches
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const started = performance.now();
  const worker = async () => {
    while (issued < requests && performance.now() - started < TIME_LIMIT_MS) {
      issued++;
      const t = performance.now();
      try {
        await op();
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { name, requests: latencies.length, errors, seconds, p50: q(0.5), p95: q(0.95), p99: q(0.99) };
}

export function printTable(results: readonly Result[]): void {
  process.stdout.write("| operation | requests | errors | req/s | p50 ms | p95 ms | p99 ms |\n|---|---:|---:|---:|---:|---:|---:|\n");
  for (const r of results) {
    process.stdout.write(`| ${r.name} | ${r.requests} | ${r.errors} | ${(r.requests / r.seconds).toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.p99.toFixed(2)} |\n`);
  }
}

/** Runs a benchmark's main and exits with its outcome. */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`bench: ${(e as Error).stack}\n`);
      process.exit(1);
    },
  );
}
