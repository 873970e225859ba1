import { isIP } from "node:net";

/** A parsed CIDR block; `bits` is the address as a bigint, `prefix` the mask length. */
export interface CidrBlock {
  readonly family: 4 | 6;
  readonly bits: bigint;
  readonly prefix: number;
  /** Canonical text, e.g. "10.0.0.0/8". */
  readonly text: string;
}

/** "*" allows any address; anything else is a block. */
export type IpRule = "*" | CidrBlock;

function ipv4ToBigInt(ip: string): bigint {
  return ip.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6ToBigInt(ip: string): bigint {
  let text = ip;
  // An embedded dotted quad (::ffff:1.2.3.4) becomes two hextets.
  const dotted = text.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const v4 = ipv4ToBigInt(dotted[1]);
    text = text.slice(0, -dotted[1].length) + `${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split("::");
  const headParts = head ? head.split(":") : [];
  const tailParts = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const missing = 8 - headParts.length - tailParts.length;
  const parts = tail === undefined ? headParts : [...headParts, ...Array(missing).fill("0"), ...tailParts];
  return parts.reduce((acc, part) => (acc << 16n) | BigInt(parseInt(part, 16)), 0n);
}

function bigIntToIp(bits: bigint, family: 4 | 6): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => ((bits >> s) & 0xffn).toString()).join(".");
  }
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((bits >> s) & 0xffffn).toString(16));
  // Compress the longest run of zero groups (RFC 5952 §4.2.3).
  let best = { start: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== "0") { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > best.len && j - i > 1) best = { start: i, len: j - i };
    i = j;
  }
  if (best.start < 0) return groups.join(":");
  return `${groups.slice(0, best.start).join(":")}::${groups.slice(best.start + best.len).join(":")}`;
}

const MAPPED_PREFIX = 0xffffn << 32n;

/**
 * Normalises an address for comparison: strips an IPv6 zone and unmaps IPv4-mapped IPv6
 * (::ffff:a.b.c.d -> a.b.c.d), so that a dual-stack listener sees IPv4 clients as IPv4.
 * Returns undefined when the text is not an IP address.
 */
export function normalizeIp(text: string): { family: 4 | 6; bits: bigint; text: string } | undefined {
  const raw = text.trim().replace(/%.*$/, "");
  const family = isIP(raw);
  if (family === 4) {
    const bits = ipv4ToBigInt(raw);
    return { family: 4, bits, text: bigIntToIp(bits, 4) };
  }
  if (family === 6) {
    const bits = ipv6ToBigInt(raw);
    if (bits >> 32n === MAPPED_PREFIX >> 32n) {
      const v4 = bits & 0xffffffffn;
      return { family: 4, bits: v4, text: bigIntToIp(v4, 4) };
    }
    return { family: 6, bits, text: bigIntToIp(bits, 6) };
  }
  return undefined;
}

/**
 * Parses "*", a CIDR block or a single address (taken as /32 or /128).
 * Throws an Error whose message states the rule broken; callers prefix the field name.
 */
export function parseIpRule(text: string): IpRule {
  const value = text.trim();
  if (value === "*") return "*";
  const slash = value.indexOf("/");
  const addressText = slash < 0 ? value : value.slice(0, slash);
  const address = isIP(addressText) ? normalizeIpStrict(addressText) : undefined;
  if (!address) throw new Error(`"${text}" is not an IP address or CIDR block`);
  const max = address.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const prefixText = value.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
      throw new Error(`"${text}" is not a CIDR block: the prefix length must be 0 to ${max}`);
    }
    prefix = Number(prefixText);
  }
  const hostBits = BigInt(max - prefix);
  const network = (address.bits >> hostBits) << hostBits;
  if (network !== address.bits) {
    throw new Error(
      `"${text}" has host bits set; did you mean "${bigIntToIp(network, address.family)}/${prefix}"?`,
    );
  }
  return { family: address.family, bits: network, prefix, text: `${bigIntToIp(network, address.family)}/${prefix}` };
}

/** Like normalizeIp but keeps an IPv4-mapped rule in IPv6 form (a rule means what it says). */
function normalizeIpStrict(text: string): { family: 4 | 6; bits: bigint } | undefined {
  const family = isIP(text);
  if (family === 4) return { family: 4, bits: ipv4ToBigInt(text) };
  if (family === 6) return { family: 6, bits: ipv6ToBigInt(text) };
  return undefined;
}

/** True when `ip` (already normalised) lies in the block. Families never match each other. */
export function blockContains(block: CidrBlock, ip: { family: 4 | 6; bits: bigint }): boolean {
  if (block.family !== ip.family) return false;
  const hostBits = BigInt((block.family === 4 ? 32 : 128) - block.prefix);
  return ip.bits >> hostBits === block.bits >> hostBits;
}

/** True when the address matches any rule. An unparsable address matches only "*". */
export function ipAllowed(rules: readonly IpRule[], ipText: string | undefined): boolean {
  if (rules.includes("*")) return true;
  const ip = ipText === undefined ? undefined : normalizeIp(ipText);
  if (!ip) return false;
  return rules.some((rule) => rule !== "*" && blockContains(rule, ip));
}

/**
 * The IP of the gRPC peer, from grpc-js's `call.getPeer()` ("1.2.3.4:5678", "[::1]:5678",
 * "ipv4:1.2.3.4:5678", "unix:…"). Undefined when the peer is not an IP socket.
 */
export function ipFromPeer(peer: string): string | undefined {
  let text = peer.replace(/^ipv[46]:/, "");
  const bracketed = text.match(/^\[([^\]]+)\](?::\d+)?$/);
  if (bracketed) text = bracketed[1];
  else if (isIP(text) === 0) text = text.replace(/:\d+$/, "");
  return normalizeIp(text)?.text;
}

/**
 * The client address of a call: the socket peer, unless that peer is a trusted proxy, in
 * which case X-Forwarded-For is read right to left and the first address that is not a
 * trusted proxy wins. A forged header from an untrusted peer is ignored.
 */
export function clientIp(peerIp: string | undefined, forwardedFor: string | undefined, trustedProxies: readonly IpRule[]): string | undefined {
  if (!peerIp || !forwardedFor || trustedProxies.length === 0 || !ipAllowed(trustedProxies, peerIp)) return peerIp;
  const hops = forwardedFor.split(",").map((h) => h.trim()).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeIp(hops[i]);
    if (!hop) return peerIp; // a malformed chain is not trusted
    if (!ipAllowed(trustedProxies, hop.text)) return hop.text;
  }
  return normalizeIp(hops[0] ?? "")?.text ?? peerIp;
}
