import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  baseStringUri, formatAuthorizationHeader, hmacSignature, normalizeParameters, OAuth1FormatError, parseAuthorizationHeader,
  percentEncode, signatureBaseString,
} from "../sdk/src/oauth1";

interface Vector {
  id: string;
  signature_method: string;
  consumer_secret: string | null;
  token_secret: string | null;
  http_method: string;
  base_string_uri: string;
  params: Array<[string, string]>;
  expected_normalized_params?: string;
  expected_base_string: string;
  expected_signature: string | null;
  signing_key?: string;
}

/** Published vectors (RFC 5849, OAuth Core 1.0, Twitter, oauthlib, oauth-sign): see test/vectors/README.md. */
const vectors: Vector[] = JSON.parse(readFileSync(path.join(__dirname, "vectors", "oauth1.json"), "utf8")).vectors;

describe("OAuth 1.0 signing and base strings: published vectors", () => {
  it("has the 18 vectors", () => assert.equal(vectors.length, 18));

  for (const v of vectors) {
    it(`${v.id} (${v.signature_method})`, () => {
      if (v.expected_normalized_params) assert.equal(normalizeParameters(v.params), v.expected_normalized_params);
      assert.equal(signatureBaseString(v.http_method, v.base_string_uri, v.params), v.expected_base_string);
      if (v.signing_key) assert.equal(`${percentEncode(v.consumer_secret ?? "")}&${percentEncode(v.token_secret ?? "")}`, v.signing_key);
      if (v.expected_signature !== null) {
        assert.equal(hmacSignature(v.signature_method, v.expected_base_string, v.consumer_secret ?? "", v.token_secret ?? ""), v.expected_signature);
      }
    });
  }
});

describe("OAuth 1.0 Authorization header", () => {
  it("parses the RFC 5849 §3.5.1 example and decodes values", () => {
    const p = parseAuthorizationHeader('OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2", oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"');
    assert.deepEqual([...p], [["realm", "Example"], ["oauth_consumer_key", "9djdj82h48djs9d2"], ["oauth_signature", "bYT5CMsGcbgUdFHObYMEfcx6bsw="]]);
  });

  it("round-trips what it formats, including reserved and UTF-8 characters", () => {
    const params: Array<[string, string]> = [["oauth_nonce", "a b/c+d=é"], ["oauth_token", "x"]];
    assert.deepEqual([...parseAuthorizationHeader(formatAuthorizationHeader(params))], params);
  });

  it("refuses a duplicated parameter, naming it", () => {
    assert.throws(() => parseAuthorizationHeader('OAuth oauth_nonce="1", oauth_nonce="2"'), (e: OAuth1FormatError) => e.parameter === "oauth_nonce" && /more than once/.test(e.rule));
  });

  it("refuses unquoted values, missing commas and other schemes", () => {
    assert.throws(() => parseAuthorizationHeader("OAuth oauth_nonce=1"), OAuth1FormatError);
    assert.throws(() => parseAuthorizationHeader('OAuth a="1" b="2"'), OAuth1FormatError);
    assert.throws(() => parseAuthorizationHeader("Bearer abc"), OAuth1FormatError);
  });

  it("builds the base string URI from the authority: lower-case host, no default port", () => {
    assert.equal(baseStringUri("A2A.Example.COM:443", "/a2a.v1.AdminService/ListResources"), "https://a2a.example.com/a2a.v1.AdminService/ListResources");
    assert.equal(baseStringUri("127.0.0.1:50051", "/p.S/M"), "https://127.0.0.1:50051/p.S/M");
  });
});
