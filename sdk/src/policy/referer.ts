/**
 * Referer rules compare parsed origins, never substrings: "https://erp.example.com" does not
 * match "https://erp.example.com.evil.com", and "https://*.example.com" matches any
 * subdomain of example.com but neither example.com itself nor "evilexample.com".
 */
export interface RefererRule {
  readonly scheme: "http" | "https";
  /** Lower-case host; for a wildcard rule, the suffix after "*.". */
  readonly host: string;
  readonly wildcard: boolean;
  /** Explicit port, or the scheme's default. */
  readonly port: string;
  readonly text: string;
}

const DEFAULT_PORT = { http: "80", https: "443" } as const;

/** Parses "https://host[:port]" or "https://*.domain[:port]"; a path is not allowed. */
export function parseRefererRule(text: string): RefererRule {
  const m = text.trim().match(/^(https?):\/\/(\*\.)?([^/:?#*]+)(?::(\d{1,5}))?\/?$/i);
  if (!m) {
    throw new Error(`"${text}" is not a referer origin: use "https://host", "https://host:port" or "https://*.domain"`);
  }
  const scheme = m[1].toLowerCase() as "http" | "https";
  let host: string;
  try {
    host = new URL(`${scheme}://${m[3]}`).hostname;
  } catch {
    throw new Error(`"${text}" is not a referer origin: "${m[3]}" is not a host name`);
  }
  const wildcard = Boolean(m[2]);
  if (wildcard && !host.includes(".")) {
    throw new Error(`"${text}" is too broad: a wildcard must be followed by a domain with at least two labels`);
  }
  const port = m[4] ?? DEFAULT_PORT[scheme];
  if (Number(port) < 1 || Number(port) > 65535) throw new Error(`"${text}" has a port outside 1-65535`);
  return { scheme, host, wildcard, port, text: `${scheme}://${wildcard ? "*." : ""}${host}${m[4] ? `:${port}` : ""}` };
}

/** True when the referer (a full URL or an origin) matches a rule. */
export function refererAllowed(rules: readonly RefererRule[], referer: string | undefined): boolean {
  if (rules.length === 0) return true;
  if (!referer) return false;
  let url: URL;
  try {
    url = new URL(referer);
  } catch {
    return false;
  }
  const scheme = url.protocol.replace(/:$/, "");
  if (scheme !== "http" && scheme !== "https") return false;
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  const port = url.port || DEFAULT_PORT[scheme];
  return rules.some(
    (rule) =>
      rule.scheme === scheme &&
      rule.port === port &&
      (rule.wildcard ? host.endsWith(`.${rule.host}`) : host === rule.host),
  );
}
