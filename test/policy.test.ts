import assert from "node:assert/strict";
import { policy } from "@a2a/sdk";

const { checkAccess, clientIp, ipAllowed, ipFromPeer, parseIpRule, parseRefererRule, refererAllowed, scopeToGrants, grantsToScope, narrowGrants } = policy;

const rules = (...texts: string[]) => texts.map(parseIpRule);
const referers = (...texts: string[]) => texts.map(parseRefererRule);

function subject(over: Partial<policy.AccessSubject> = {}): policy.AccessSubject {
  return {
    applicationEnabled: true,
    authorizationEnabled: true,
    grants: [{ resource: "pam-core", level: "read" }],
    allowedIps: rules("*"),
    allowedReferers: [],
    ...over,
  };
}

describe("policy: IP rules", () => {
  it("/0 allows every address of its family and none of the other", () => {
    assert.ok(ipAllowed(rules("0.0.0.0/0"), "203.0.113.9"));
    assert.ok(!ipAllowed(rules("0.0.0.0/0"), "2001:db8::1"));
    assert.ok(ipAllowed(rules("::/0"), "2001:db8::1"));
    assert.ok(!ipAllowed(rules("::/0"), "10.0.0.1"));
  });

  it("/32 and /128 allow exactly one address; a bare address means the same", () => {
    assert.ok(ipAllowed(rules("10.1.2.3/32"), "10.1.2.3"));
    assert.ok(!ipAllowed(rules("10.1.2.3/32"), "10.1.2.4"));
    assert.ok(ipAllowed(rules("10.1.2.3"), "10.1.2.3"));
    assert.ok(ipAllowed(rules("2001:db8::7/128"), "2001:db8:0:0:0:0:0:7"));
    assert.ok(!ipAllowed(rules("2001:db8::7/128"), "2001:db8::8"));
  });

  it("block edges: the first and last address are in, their neighbours out", () => {
    const r = rules("192.168.4.0/22");
    assert.ok(ipAllowed(r, "192.168.4.0"));
    assert.ok(ipAllowed(r, "192.168.7.255"));
    assert.ok(!ipAllowed(r, "192.168.3.255"));
    assert.ok(!ipAllowed(r, "192.168.8.0"));
  });

  it("unmaps IPv4-mapped IPv6 before matching", () => {
    assert.ok(ipAllowed(rules("10.0.0.0/8"), "::ffff:10.9.8.7"));
    assert.ok(ipAllowed(rules("10.0.0.0/8"), "::ffff:a09:807"));
    assert.ok(!ipAllowed(rules("10.0.0.0/8"), "::ffff:11.0.0.1"));
    assert.equal(ipFromPeer("[::ffff:127.0.0.1]:5555"), "127.0.0.1");
    assert.equal(ipFromPeer("ipv4:10.0.0.2:443"), "10.0.0.2");
    assert.equal(ipFromPeer("[::1]:5555"), "::1");
    assert.equal(ipFromPeer("unix:/tmp/sock"), undefined);
  });

  it("rejects malformed rules, naming the problem", () => {
    assert.throws(() => parseIpRule("10.0.0.0/33"), /prefix length must be 0 to 32/);
    assert.throws(() => parseIpRule("2001:db8::/129"), /0 to 128/);
    assert.throws(() => parseIpRule("10.0.0.1/8"), /host bits set; did you mean "10.0.0.0\/8"/);
    assert.throws(() => parseIpRule("300.1.1.1"), /not an IP address/);
    assert.throws(() => parseIpRule("example.com"), /not an IP address/);
    assert.throws(() => parseIpRule("10.0.0.0/"), /prefix length/);
  });

  it("an unknown source address matches only *", () => {
    assert.ok(!ipAllowed(rules("0.0.0.0/0", "::/0"), undefined));
    assert.ok(ipAllowed(rules("*"), undefined));
  });
});

describe("policy: X-Forwarded-For", () => {
  const proxies = rules("10.0.0.5/32");

  it("is ignored from a peer that is not a trusted proxy (spoofing)", () => {
    assert.equal(clientIp("198.51.100.7", "10.1.1.1", proxies), "198.51.100.7");
    assert.equal(clientIp("198.51.100.7", "10.1.1.1", []), "198.51.100.7");
  });

  it("is used from a trusted proxy: the rightmost hop that is not a proxy wins", () => {
    assert.equal(clientIp("10.0.0.5", "203.0.113.4", proxies), "203.0.113.4");
    // A client that forges a first hop cannot choose its address.
    assert.equal(clientIp("10.0.0.5", "10.1.1.1, 203.0.113.4", proxies), "203.0.113.4");
    assert.equal(clientIp("10.0.0.5", "203.0.113.4, 10.0.0.5", proxies), "203.0.113.4");
  });

  it("a malformed chain from a trusted proxy falls back to the peer", () => {
    assert.equal(clientIp("10.0.0.5", "not-an-ip", proxies), "10.0.0.5");
  });
});

describe("policy: referers compare origins", () => {
  const exact = referers("https://allowed.example.com");
  const wildcard = referers("https://*.example.com");

  it("matches the same origin, with or without a path", () => {
    assert.ok(refererAllowed(exact, "https://allowed.example.com"));
    assert.ok(refererAllowed(exact, "https://allowed.example.com/app/page?x=1"));
    assert.ok(refererAllowed(exact, "https://ALLOWED.example.com:443/"));
  });

  it("refuses look-alikes", () => {
    for (const bad of [
      "https://allowed.example.com.evil.com",
      "https://evil.com/allowed.example.com",
      "https://allowed.example.com@evil.com",
      "https://evilallowed.example.com",
      "http://allowed.example.com",
      "https://allowed.example.com:8443",
      "allowed.example.com",
      "javascript:alert(1)//allowed.example.com",
    ]) {
      assert.ok(!refererAllowed(exact, bad), bad);
    }
  });

  it("wildcards match subdomains only, not the apex or a suffix look-alike", () => {
    assert.ok(refererAllowed(wildcard, "https://erp.example.com/x"));
    assert.ok(refererAllowed(wildcard, "https://a.b.example.com"));
    assert.ok(!refererAllowed(wildcard, "https://example.com"));
    assert.ok(!refererAllowed(wildcard, "https://evilexample.com"));
    assert.ok(!refererAllowed(wildcard, "https://example.com.evil.com"));
  });

  it("an empty list is no rule; a non-empty list needs a referer", () => {
    assert.ok(refererAllowed([], undefined));
    assert.ok(!refererAllowed(exact, undefined));
  });

  it("rejects patterns that are not origins", () => {
    assert.throws(() => parseRefererRule("allowed.example.com"), /not a referer origin/);
    assert.throws(() => parseRefererRule("https://example.com/path"), /not a referer origin/);
    assert.throws(() => parseRefererRule("https://*"), /not a referer origin|too broad/);
    assert.throws(() => parseRefererRule("https://*.com"), /too broad/);
    assert.throws(() => parseRefererRule("ftp://example.com"), /not a referer origin/);
  });
});

describe("policy: checkAccess", () => {
  const now = new Date("2025-01-30T21:00:00.000Z");

  it("expiry: allowed until the instant before, refused at the exact second", () => {
    const s = subject({ expiresAt: now });
    assert.equal(checkAccess(s, { now: new Date(now.getTime() - 1) }), undefined);
    assert.deepEqual(checkAccess(s, { now }), { kind: "credentials", reason: "expired" });
    assert.deepEqual(checkAccess(s, { now: new Date(now.getTime() + 1000) }), { kind: "credentials", reason: "expired" });
  });

  it("a disabled application or authorization is a credentials failure", () => {
    assert.equal(checkAccess(subject({ applicationEnabled: false }), { now })?.kind, "credentials");
    assert.equal(checkAccess(subject({ authorizationEnabled: false }), { now })?.kind, "credentials");
  });

  it("read-write implies read; read does not give write", () => {
    const rw = subject({ grants: [{ resource: "pam-core", level: "read_write" }] });
    const ro = subject();
    assert.equal(checkAccess(rw, { now, resource: "pam-core", access: "read" }), undefined);
    assert.equal(checkAccess(rw, { now, resource: "pam-core", access: "write" }), undefined);
    assert.equal(checkAccess(ro, { now, resource: "pam-core", access: "read" }), undefined);
    const denial = checkAccess(ro, { now, resource: "pam-core", access: "write" });
    assert.equal(denial?.kind, "permission");
    assert.match((denial as { message: string }).message, /read-write access to resource "pam-core"/);
    assert.equal(checkAccess(ro, { now, resource: "billing", access: "read" })?.kind, "permission");
  });

  it("IP and referer rules are permission failures that name the rule", () => {
    const s = subject({ allowedIps: rules("10.0.0.0/8"), allowedReferers: referers("https://erp.example.com") });
    const ip = checkAccess(s, { now, ip: "192.0.2.1", referer: "https://erp.example.com" });
    assert.match((ip as { message: string }).message, /192\.0\.2\.1 is not in this authorization's allowed_ips/);
    const ref = checkAccess(s, { now, ip: "10.2.3.4", referer: "https://erp.example.com.evil.com" });
    assert.match((ref as { message: string }).message, /allowed_referers/);
    assert.equal(checkAccess(s, { now, ip: "10.2.3.4", referer: "https://erp.example.com/x" }), undefined);
  });
});

describe("policy: scopes", () => {
  it("round-trips grants and narrows to what is still granted", () => {
    const grants: policy.ResourceGrant[] = [{ resource: "pam-core", level: "read_write" }, { resource: "billing", level: "read" }];
    assert.equal(grantsToScope(grants), "pam-core:write billing:read");
    assert.deepEqual(scopeToGrants("pam-core:write billing:read"), grants);
    // A write scope over a grant now reduced to read gives read only; a dropped grant gives nothing.
    assert.deepEqual(narrowGrants([{ resource: "pam-core", level: "read" }], "pam-core:write billing:read"), [{ resource: "pam-core", level: "read" }]);
    assert.throws(() => scopeToGrants("pam-core:admin"), /not a scope item/);
  });
});
