import http from "node:http";
import https from "node:https";
import type { AwsSignedRequest } from "../../sdk/src/gen/a2a/v1/token_service";
import { InvalidArgumentError, UnauthenticatedError, UnavailableError } from "../domain/errors";

/**
 * AWS IAM authentication, as HashiCorp Vault's `aws` auth method does it: the workload signs
 * an sts:GetCallerIdentity request with its own AWS credentials (SigV4) and hands it to A2A,
 * which sends it to STS. STS checks the signature and answers with the caller's ARN; A2A never
 * sees an AWS secret. The request is checked first so that A2A cannot be used to send anything
 * else anywhere else: only POST to the configured STS endpoint, only GetCallerIdentity, with
 * the header x-a2a-server-id signed (a signature made for another service is refused).
 */
export interface AwsIamSettings {
  /** Origin, e.g. "https://sts.amazonaws.com". */
  readonly awsStsEndpoint: string;
  readonly awsServerId: string;
  readonly awsStsTimeoutMs: number;
}

export const SERVER_ID_HEADER = "x-a2a-server-id";
const LIMITS = { url: 2048, headers: 50, name: 128, value: 8192, body: 4096, answer: 64 * 1024 };
/** Connection-level headers: set by the HTTP client, never forwarded. */
const HOP_BY_HOP = new Set(["connection", "content-length", "transfer-encoding", "keep-alive", "upgrade", "te", "trailer", "expect", "proxy-authorization", "proxy-connection"]);

export interface CheckedAwsRequest {
  readonly url: URL;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
  readonly accessKeyId: string;
}

/** Form checks, before anything is looked up or sent: INVALID_ARGUMENT names the field and rule. */
export function checkAwsRequest(settings: AwsIamSettings, req: AwsSignedRequest | undefined): CheckedAwsRequest {
  if (!req) throw new InvalidArgumentError("aws_request", 'is required for grant_type "aws_iam": a signed sts:GetCallerIdentity request');
  if (req.method !== "POST") throw new InvalidArgumentError("aws_request.method", `must be "POST", got "${req.method.slice(0, 10)}"`);
  const endpoint = `${settings.awsStsEndpoint}/`;
  if (req.url.length > LIMITS.url) throw new InvalidArgumentError("aws_request.url", `must be at most ${LIMITS.url} characters`);
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new InvalidArgumentError("aws_request.url", "is not a URL");
  }
  if (url.origin !== settings.awsStsEndpoint || url.pathname !== "/" || url.search || url.hash || url.username || url.password) {
    throw new InvalidArgumentError("aws_request.url", `must be "${endpoint}", the STS endpoint this A2A is configured with`);
  }
  if (req.body.length > LIMITS.body) throw new InvalidArgumentError("aws_request.body", `must be at most ${LIMITS.body} bytes`);
  const form = new URLSearchParams(Buffer.from(req.body).toString("utf8"));
  const keys = [...form.keys()].sort();
  if (form.get("Action") !== "GetCallerIdentity" || keys.length !== 2 || keys[0] !== "Action" || keys[1] !== "Version" || form.getAll("Action").length !== 1) {
    throw new InvalidArgumentError("aws_request.body", 'only "Action=GetCallerIdentity&Version=2011-06-15" is accepted');
  }
  if (form.get("Version") !== "2011-06-15") throw new InvalidArgumentError("aws_request.body", 'Version must be "2011-06-15"');

  if (req.headers.length > LIMITS.headers) throw new InvalidArgumentError("aws_request.headers", `allows at most ${LIMITS.headers} entries`);
  const headers = new Map<string, string>();
  req.headers.forEach((h, i) => {
    const name = h.name.toLowerCase();
    if (!/^[a-z0-9!#$%&'*+.^_`|~-]{1,128}$/.test(name)) throw new InvalidArgumentError(`aws_request.headers[${i}].name`, "must be an HTTP header name (at most 128 characters)");
    if (h.value.length > LIMITS.value || /[\r\n\0]/.test(h.value)) {
      throw new InvalidArgumentError(`aws_request.headers[${i}].value`, `must be at most ${LIMITS.value} characters, without CR, LF or NUL`);
    }
    if (headers.has(name)) throw new InvalidArgumentError(`aws_request.headers[${i}].name`, `"${name}" is listed twice`);
    headers.set(name, h.value);
  });
  const authorization = headers.get("authorization") ?? "";
  const m = authorization.match(/^AWS4-HMAC-SHA256 Credential=([A-Z0-9]{4,128})\/[^,]+,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=[0-9a-f]{64}$/);
  if (!m) throw new InvalidArgumentError("aws_request.headers", 'needs an "authorization" header signed with AWS Signature Version 4 (AWS4-HMAC-SHA256)');
  const signedHeaders = m[2].split(";");
  if (!headers.has(SERVER_ID_HEADER) || !signedHeaders.includes(SERVER_ID_HEADER)) {
    throw new InvalidArgumentError("aws_request.headers", `the header "${SERVER_ID_HEADER}" is required and must be signed (listed in SignedHeaders)`);
  }
  if (headers.get("host") !== url.host || !signedHeaders.includes("host")) {
    throw new InvalidArgumentError("aws_request.headers", `the header "host" must be "${url.host}" and signed`);
  }
  if (headers.get(SERVER_ID_HEADER) !== settings.awsServerId) {
    // Signed for another service (or another A2A): a credential meant for someone else.
    throw UnauthenticatedError.client(`${SERVER_ID_HEADER} is "${headers.get(SERVER_ID_HEADER)!.slice(0, 100)}", not this server's`);
  }
  return { url, headers, body: Buffer.from(req.body), accessKeyId: m[1] };
}

function xmlText(xml: string, tag: string): string | undefined {
  const m = xml.match(new RegExp(`<${tag}>([^<]*)</${tag}>`));
  return m?.[1].replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ({ lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" })[e]!);
}

/**
 * Sends the checked request to STS, bounded in size and in time: the whole exchange (connect,
 * send, the full answer) must finish within the timeout, so a peer that trickles bytes cannot
 * hold the call open either.
 */
function post(settings: AwsIamSettings, req: CheckedAwsRequest): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  for (const [k, v] of req.headers) if (!HOP_BY_HOP.has(k) && !k.startsWith("proxy-")) headers[k] = v;
  headers["content-length"] = String(req.body.length);
  const send = req.url.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, answer?: { status: number; text: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (error) reject(error);
      else resolve(answer!);
    };
    const r = send(req.url, { method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > LIMITS.answer) r.destroy(new Error("STS answer too large"));
        else chunks.push(c);
      });
      res.on("end", () => finish(undefined, { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (e) => finish(e));
      res.on("close", () => res.complete || finish(new Error("STS closed the connection mid-answer")));
    });
    const deadline = setTimeout(() => {
      const error = new Error(`no answer from STS within ${settings.awsStsTimeoutMs} ms`);
      finish(error);
      r.destroy(error);
    }, settings.awsStsTimeoutMs);
    r.on("error", (e) => finish(e));
    r.end(req.body);
  });
}

/** The IAM identity an assumed-role session stands for: its role (without the role's path, which STS does not return). */
export function canonicalArn(arn: string): string {
  const m = arn.match(/^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : arn;
}

/** An application's ARN pattern: exact, or with `*` matching any run of characters. */
export function arnMatches(pattern: string, arn: string): boolean {
  if (!pattern.includes("*")) return pattern === arn;
  const re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, "\\$&")).join(".*")}$`);
  return re.test(arn);
}

/**
 * Asks STS who signed the request. STS refusing it (bad signature, expired, unknown key) is
 * UNAUTHENTICATED; STS unreachable, slow or failing is UNAVAILABLE.
 */
export async function callerIdentity(settings: AwsIamSettings, req: CheckedAwsRequest): Promise<{ arn: string; canonical: string }> {
  let answer: { status: number; text: string };
  try {
    answer = await post(settings, req);
  } catch (e) {
    throw new UnavailableError(`AWS STS could not be reached (${(e as Error).message}); try again later`);
  }
  if (answer.status >= 400 && answer.status < 500) {
    throw UnauthenticatedError.client(`STS refused the signed request: ${xmlText(answer.text, "Code") ?? `HTTP ${answer.status}`}`);
  }
  const arn = answer.status === 200 ? xmlText(answer.text.match(/<GetCallerIdentityResult>[\s\S]*<\/GetCallerIdentityResult>/)?.[0] ?? "", "Arn") : undefined;
  if (!arn) throw new UnavailableError(`AWS STS answered HTTP ${answer.status} without a caller identity; try again later`);
  return { arn, canonical: canonicalArn(arn) };
}
