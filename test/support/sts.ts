import { randomUUID, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { canonicalRequest, parseAuthorization, signature, stringToSign } from "./sigv4";

/** AWS's published SigV4 test credentials (test/vectors/aws-sigv4/README.md). */
export const TEST_KEY = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };

export interface StsIdentity {
  readonly secretAccessKey: string;
  /** What GetCallerIdentity answers, e.g. an assumed-role session ARN. */
  readonly arn: string;
}

export interface StsStandIn {
  /** http://127.0.0.1:port */
  readonly endpoint: string;
  /** Requests received (to check A2A did not call). */
  calls: number;
  /** While true, the stand-in answers 503 like an STS outage. */
  failing: boolean;
  /** While true, the stand-in reads requests and never answers them (a hung STS or network). */
  hanging: boolean;
  close(): Promise<void>;
}

const XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";
const error = (code: string, message: string) =>
  `<ErrorResponse xmlns="${XMLNS}">\n  <Error>\n    <Type>Sender</Type>\n    <Code>${code}</Code>\n    <Message>${message}</Message>\n  </Error>\n  <RequestId>${randomUUID()}</RequestId>\n</ErrorResponse>\n`;

/**
 * An STS stand-in on 127.0.0.1 that does what STS does with a GetCallerIdentity request:
 * verifies the SigV4 signature with the keys it knows, refuses a request older than 15
 * minutes, and answers with STS's XML, or STS's error answers.
 */
export async function startStsStandIn(identities: Record<string, StsIdentity>): Promise<StsStandIn> {
  const state = { calls: 0, failing: false, hanging: false };
  const held = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      state.calls++;
      const body = Buffer.concat(chunks);
      const send = (code: number, xml: string) => {
        res.writeHead(code, { "content-type": "text/xml" });
        res.end(xml);
      };
      if (state.hanging) {
        held.add(res);
        return;
      }
      if (state.failing) return send(503, error("ServiceUnavailable", "Service is unavailable"));
      const auth = parseAuthorization(String(req.headers.authorization ?? ""));
      if (!auth) return send(403, error("MissingAuthenticationToken", "Request is missing Authentication Token"));
      const identity = identities[auth.accessKeyId];
      if (!identity) return send(403, error("InvalidClientTokenId", "The security token included in the request is invalid."));
      const amzDate = String(req.headers["x-amz-date"] ?? "");
      const when = Date.parse(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z"));
      const headers: Array<[string, string]> = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
      const creq = canonicalRequest({ method: req.method!, target: req.url!, headers, body }, auth.signedHeaders);
      const expected = Buffer.from(signature(identity.secretAccessKey, auth.scope, stringToSign(amzDate, auth.scope, creq)));
      if (!timingSafeEqual(expected, Buffer.from(auth.signature.padEnd(expected.length).slice(0, expected.length)))) {
        return send(403, error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."));
      }
      if (!Number.isFinite(when) || Math.abs(Date.now() - when) > 15 * 60 * 1000) {
        return send(403, error("SignatureDoesNotMatch", `Signature expired: ${amzDate} is now earlier than the allowed time window.`));
      }
      const form = new URLSearchParams(body.toString("utf8"));
      if (form.get("Action") !== "GetCallerIdentity") return send(400, error("InvalidAction", `Could not find operation ${form.get("Action")} for version ${form.get("Version")}`));
      const account = identity.arn.split(":")[4];
      send(200, `<GetCallerIdentityResponse xmlns="${XMLNS}">
  <GetCallerIdentityResult>
    <Arn>${identity.arn}</Arn>
    <UserId>AROAEXAMPLE:${auth.accessKeyId}</UserId>
    <Account>${account}</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>${randomUUID()}</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get calls() {
      return state.calls;
    },
    set calls(n: number) {
      state.calls = n;
    },
    get failing() {
      return state.failing;
    },
    set failing(v: boolean) {
      state.failing = v;
    },
    get hanging() {
      return state.hanging;
    },
    set hanging(v: boolean) {
      state.hanging = v;
    },
    close: () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
