/**
 * AWS Signature Version 4, verifying side, for the STS stand-in the tests run A2A against.
 * Written from AWS's published description and checked against AWS's own test suite
 * (test/vectors/aws-sigv4, see sigv4-vectors.test.ts). Test code only: the SDK signs with
 * the AWS SDK's signer, never with this.
 */
import { createHash, createHmac } from "node:crypto";

const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const decode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};
export const sha256Hex = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data).digest();

export interface SigV4Request {
  readonly method: string;
  /** Path and query as sent, e.g. "/?Action=…". */
  readonly target: string;
  /** Header names in any case; repeated names allowed. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
}

/** Canonical headers: lower-case names, trimmed values with runs of spaces made one, repeats joined with ",". */
function canonicalHeaders(headers: SigV4Request["headers"], signed: readonly string[]): string {
  const byName = new Map<string, string[]>();
  for (const [name, value] of headers) {
    const k = name.toLowerCase();
    if (!signed.includes(k)) continue;
    byName.set(k, [...(byName.get(k) ?? []), value.trim().replace(/\s+/g, " ")]);
  }
  return signed.map((k) => `${k}:${(byName.get(k) ?? []).join(",")}\n`).join("");
}

export function canonicalRequest(req: SigV4Request, signedHeaders: readonly string[], payloadHash = sha256Hex(req.body)): string {
  const [path, query = ""] = req.target.split(/\?(.*)/s);
  const uri = path.split("/").map((seg) => enc(decode(seg))).join("/");
  const params = query
    ? query.split("&").map((p) => {
        const [k, v = ""] = p.split(/=(.*)/s);
        return [enc(decode(k)), enc(decode(v))] as const;
      })
    : [];
  params.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return [req.method, uri, params.map(([k, v]) => `${k}=${v}`).join("&"), canonicalHeaders(req.headers, signedHeaders), signedHeaders.join(";"), payloadHash].join("\n");
}

export function stringToSign(amzDate: string, scope: string, creq: string): string {
  return ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(creq)].join("\n");
}

/** scope = date/region/service/aws4_request. */
export function signature(secretAccessKey: string, scope: string, sts: string): string {
  const [date, region, service] = scope.split("/");
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), "aws4_request");
  return createHmac("sha256", key).update(sts).digest("hex");
}

/** Reads `AWS4-HMAC-SHA256 Credential=AKID/scope, SignedHeaders=a;b, Signature=hex`. */
export function parseAuthorization(value: string): { accessKeyId: string; scope: string; signedHeaders: string[]; signature: string } | undefined {
  const m = value.trim().match(/^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/);
  return m ? { accessKeyId: m[1], scope: m[2], signedHeaders: m[3].split(";"), signature: m[4] } : undefined;
}
