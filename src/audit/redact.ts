/**
 * The request summary the audit trail keeps: the request message with secrets removed.
 * - secrets (client and token secrets, passwords, the `authorization` text) become "[redacted]";
 * - tokens and values an auditor may need to correlate become "hmac-sha256:<hex>" under the
 *   audit key (AuditService.HashValue computes the same for a value the auditor has);
 * - an AWS signed request keeps its method, URL and header names, never their values;
 * - bytes become their length, long text is clipped, depth and breadth are bounded.
 */
/** Secrets in A2A's formats and JWTs, wherever they were pasted. */
const SECRET_TEXT = /a2a_(cs|ts)_[0-9A-Za-z]{20,}|eyJ[\w-]+\.[\w-]+\.[\w-]*/g;
const CLIENT_ID = /^a2a_ci_[0-9A-Za-z]{22}$/;
const SECRET = new Set(["clientSecret", "tokenSecret", "consumerSecret", "secret", "password", "authorization", "signature"]);
const HASHED = new Set(["token", "accessToken", "refreshToken"]);
const MAX_TEXT = 200;
const MAX_ITEMS = 50;
const MAX_DEPTH = 6;

export type Hasher = (value: string) => string;

function summarize(value: unknown, key: string, hash: Hasher, depth: number): unknown {
  if (value === undefined || value === null) return undefined;
  if (SECRET.has(key) && typeof value === "string") return value === "" ? "" : "[redacted]";
  if (HASHED.has(key) && typeof value === "string") return value === "" ? "" : hash(value);
  // A client id is recorded only in its format: a secret pasted into the wrong field is not.
  if (key === "clientId" && typeof value === "string") return value === "" || CLIENT_ID.test(value) ? value : "(invalid client_id)";
  if (key === "awsRequest" && typeof value === "object") {
    const r = value as { method?: string; url?: string; headers?: Array<{ name: string }>; body?: Uint8Array };
    return { method: r.method, url: clip(r.url ?? ""), headers: (r.headers ?? []).slice(0, MAX_ITEMS).map((h) => clip(h.name)), body: { bytes: r.body?.length ?? 0 } };
  }
  if (typeof value === "string") return clip(value);
  if (typeof value === "number" || typeof value === "boolean") return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return { bytes: value.length };
  if (depth >= MAX_DEPTH) return "[…]";
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((v) => summarize(v, key, hash, depth + 1));
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>).slice(0, MAX_ITEMS)) {
      const s = summarize(v, k, hash, depth + 1);
      // Defaults (empty text, zero, false, empty lists) say nothing: leave them out.
      if (s === undefined || s === "" || s === 0 || s === false || (Array.isArray(s) && s.length === 0)) continue;
      out[k] = s;
    }
    return out;
  }
  return undefined;
}

function clip(s: string): string {
  const clean = s.replace(/\u0000/g, "\uFFFD").replace(SECRET_TEXT, "[redacted]");
  return clean.length > MAX_TEXT ? `${clean.slice(0, MAX_TEXT)}…` : clean;
}

export function redactRequest(request: unknown, hash: Hasher): Record<string, unknown> {
  const s = summarize(request, "", hash, 0);
  return s && typeof s === "object" && !Array.isArray(s) ? (s as Record<string, unknown>) : {};
}

/** JSON with keys sorted at every level: the same value always gives the same text (hashing). */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj).filter((k) => obj[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stableJson(obj[k])}`).join(",")}}`;
}
