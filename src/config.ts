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
  /** OAuth 1.0: how far (seconds) a request's oauth_timestamp may be from now; nonces are kept that long. */
  readonly oauth1WindowSeconds: number;
  /**
   * Authorities (host[:port]) clients may have signed OAuth 1.0 requests for besides the
   * `:authority` A2A receives: the public names of proxies or load balancers in front of it.
   */
  readonly publicAuthorities: string[];
  /** AWS IAM: the STS endpoint signed requests must be for and are forwarded to (origin only). */
  readonly awsStsEndpoint: string;
  /** AWS IAM: the value the signed header x-a2a-server-id must have. */
  readonly awsServerId: string;
  readonly awsStsTimeoutMs: number;
  /** Audit partitions (months) to keep, counting the current one; 0 keeps everything. */
  readonly auditRetentionMonths: number;
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, unit: string): number {
  const raw = env[name];
  const n = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}: must be a whole number of ${unit} from ${min} to ${max}, got "${raw}"`);
  return n;
}

/** An http(s) origin with nothing after it but "/", e.g. "https://sts.amazonaws.com". */
function stsEndpoint(raw: string | undefined): string {
  const text = raw || "https://sts.amazonaws.com";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`A2A_AWS_STS_ENDPOINT: "${text}" is not a URL`);
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.pathname !== "/" || url.search || url.hash || url.username || url.password) {
    throw new Error(`A2A_AWS_STS_ENDPOINT: must be an http(s) origin like "https://sts.us-east-1.amazonaws.com", got "${text}"`);
  }
  return url.origin;
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
    oauth1WindowSeconds: wholeNumber(env, "A2A_OAUTH1_TIMESTAMP_WINDOW", 300, 1, 3600, "seconds"),
    publicAuthorities: (env.A2A_PUBLIC_AUTHORITIES ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean).map((s, i) => {
      if (!/^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/.test(s)) throw new Error(`A2A_PUBLIC_AUTHORITIES[${i}]: "${s}" is not host[:port]`);
      return s;
    }),
    awsStsEndpoint: stsEndpoint(env.A2A_AWS_STS_ENDPOINT),
    awsServerId: env.A2A_AWS_SERVER_ID || env.A2A_ISSUER || "a2a",
    awsStsTimeoutMs: wholeNumber(env, "A2A_AWS_STS_TIMEOUT_MS", 5000, 100, 60_000, "milliseconds"),
    auditRetentionMonths: wholeNumber(env, "A2A_AUDIT_RETENTION_MONTHS", 0, 0, 1200, "months"),
  };
}
