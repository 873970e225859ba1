import { hostname } from "node:os";
import { parseIpRule, type IpRule } from "../sdk/src/policy";

export interface Config {
  /** host:port to listen on. */
  readonly listen: string;
  /** PostgreSQL through `pg`; unset = the embedded PGlite store under dataDir. */
  readonly databaseUrl?: string;
  readonly dataDir: string;
  /** 32 bytes; unset = a key file in dataDir (created on first start, mode 0600). */
  readonly masterKey?: Buffer;
  readonly issuer: string;
  readonly tokenTtlSeconds: number;
  /** Peers whose X-Forwarded-For is believed. */
  readonly trustedProxies: IpRule[];
  /** RevealAuthorizationCredentials answers only when true. */
  readonly allowReveal: boolean;
  readonly nodeName: string;
  readonly logLevel: string;
  /** Create the administrator on first start with an empty store. */
  readonly bootstrapAdmin: boolean;
}

function parseMasterKey(text: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, "hex") : Buffer.from(text, "base64");
  if (key.length !== 32) {
    throw new Error("A2A_MASTER_KEY: must be 32 bytes, as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)");
  }
  return key;
}

/** Reads the configuration from the environment; throws naming the variable and the rule. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const ttl = Number(env.A2A_TOKEN_TTL ?? 3600);
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 86400) {
    throw new Error(`A2A_TOKEN_TTL: must be a whole number of seconds from 60 to 86400, got "${env.A2A_TOKEN_TTL}"`);
  }
  const trustedProxies = (env.A2A_TRUSTED_PROXIES ?? "").split(",").map((s) => s.trim()).filter(Boolean).map((s, i) => {
    try {
      return parseIpRule(s);
    } catch (e) {
      throw new Error(`A2A_TRUSTED_PROXIES[${i}]: ${(e as Error).message}`);
    }
  });
  const bool = (name: string, fallback: boolean) => {
    const v = env[name];
    if (v === undefined || v === "") return fallback;
    if (/^(true|1|yes)$/i.test(v)) return true;
    if (/^(false|0|no)$/i.test(v)) return false;
    throw new Error(`${name}: must be true or false, got "${v}"`);
  };
  return {
    listen: env.A2A_LISTEN || "127.0.0.1:50051",
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.A2A_DATA_DIR || "./data",
    masterKey: env.A2A_MASTER_KEY ? parseMasterKey(env.A2A_MASTER_KEY) : undefined,
    issuer: env.A2A_ISSUER || "a2a",
    tokenTtlSeconds: ttl,
    trustedProxies,
    allowReveal: bool("A2A_ALLOW_REVEAL", true),
    nodeName: env.A2A_NODE_NAME || hostname(),
    logLevel: env.A2A_LOG_LEVEL || "info",
    bootstrapAdmin: bool("A2A_BOOTSTRAP_ADMIN", true),
  };
}
