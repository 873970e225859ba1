import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { canonicalRequest, parseAuthorization, signature, stringToSign } from "./support/sigv4";
import { TEST_KEY } from "./support/sts";

const SUITE = path.join(__dirname, "vectors", "aws-sigv4");

/** Reads an old-format .req: request line, headers (folded lines continue a value), blank line, body. */
function readRequest(text: string) {
  const [head, ...rest] = text.split("\n\n");
  const lines = head.split("\n");
  const [method, target] = lines[0].split(" ");
  const headers: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    if (/^\s/.test(line) && headers.length > 0) headers[headers.length - 1][1] += `\n${line}`;
    else {
      const colon = line.indexOf(":");
      headers.push([line.slice(0, colon), line.slice(colon + 1)]);
    }
  }
  return { method, target: target.replace(/ HTTP\/1\.1$/, ""), headers, body: Buffer.from(rest.join("\n\n")) };
}

/** The folder's cases; the S3-style path normalisation cases do not apply to STS's "/". */
const cases = readdirSync(SUITE).filter((c) => c.startsWith("get-") || c.startsWith("post-") && c !== "post-sts-token");
/** Their .creq is stale (README: "Treat .sts and .authz as the truth"). */
const STALE_CREQ = ["post-x-www-form-urlencoded", "post-x-www-form-urlencoded-parameters"];
/** Its .sts matches no canonical request we could rebuild: only the signing of .sts is checked. */
const STS_ONLY = ["post-x-www-form-urlencoded-parameters"];

describe("AWS SigV4 verification (STS stand-in): AWS's published test suite", () => {
  it("covers the suite's GET and POST cases", () => assert.ok(cases.length >= 24, `found ${cases.length}`));

  for (const name of cases) {
    it(name, () => {
      const file = (ext: string) => readFileSync(path.join(SUITE, name, `${name}.${ext}`), "utf8");
      // The signed request, as the stand-in receives one; .authz names what was signed (the
      // README lists two .sreq files whose Authorization line is stale).
      const req = readRequest(file("sreq"));
      const auth = parseAuthorization(file("authz"))!;
      // The stale pair's .sts was made without content-length signed (README: checked by recomputation).
      const signed = STALE_CREQ.includes(name) ? auth.signedHeaders.filter((h) => h !== "content-length") : auth.signedHeaders;
      const creq = canonicalRequest(req, signed);
      if (!STALE_CREQ.includes(name)) assert.equal(creq, file("creq"));
      const amzDate = req.headers.find(([k]) => k.toLowerCase() === "x-amz-date")![1];
      const sts = STS_ONLY.includes(name) ? file("sts") : stringToSign(amzDate, auth.scope, creq);
      assert.equal(sts, file("sts"));
      assert.equal(signature(TEST_KEY.secretAccessKey, auth.scope, sts), auth.signature);
    });
  }

  for (const name of ["post-sts-header-before", "post-sts-header-after"]) {
    it(`${name}: a session token signed, or added after signing`, () => {
      const file = (ext: string) => readFileSync(path.join(SUITE, "post-sts-token", name, `${name}.${ext}`), "utf8");
      const req = readRequest(file("sreq"));
      const auth = parseAuthorization(file("authz"))!;
      const creq = canonicalRequest(req, auth.signedHeaders);
      assert.equal(creq, file("creq"));
      const amzDate = req.headers.find(([k]) => k.toLowerCase() === "x-amz-date")![1];
      assert.equal(signature(TEST_KEY.secretAccessKey, auth.scope, stringToSign(amzDate, auth.scope, creq)), auth.signature);
    });
  }

  for (const name of ["get-vanilla", "get-vanilla-with-session-token", "post-x-www-form-urlencoded"]) {
    it(`new format ${name}: header-signed request`, () => {
      const file = (f: string) => readFileSync(path.join(SUITE, "aws-signing-test-suite", "v4", name, f), "utf8");
      const req = readRequest(file("header-signed-request.txt"));
      const auth = parseAuthorization(req.headers.find(([k]) => k.toLowerCase() === "authorization")![1])!;
      const creq = canonicalRequest(req, auth.signedHeaders);
      assert.equal(creq, file("header-canonical-request.txt"));
      const amzDate = req.headers.find(([k]) => k.toLowerCase() === "x-amz-date")![1];
      const sts = stringToSign(amzDate, auth.scope, creq);
      assert.equal(sts, file("header-string-to-sign.txt"));
      assert.equal(signature(TEST_KEY.secretAccessKey, auth.scope, sts), file("header-signature.txt"));
      assert.equal(auth.signature, file("header-signature.txt"));
    });
  }
});
