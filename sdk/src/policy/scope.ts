import type { GrantLevel, ResourceGrant } from "./access";

/**
 * Scopes name grants: "pam-core:read", "pam-core:write" (= read-write). A token's scope is
 * the space-separated list (RFC 6749 §3.3); its audience is the list of resources.
 */
export function grantsToScope(grants: readonly ResourceGrant[]): string {
  return grants.map((g) => `${g.resource}:${g.level === "read_write" ? "write" : "read"}`).join(" ");
}

/** Parses a scope string; throws with the offending item when one is malformed. */
export function scopeToGrants(scope: string): ResourceGrant[] {
  const byResource = new Map<string, GrantLevel>();
  for (const item of scope.split(" ").filter(Boolean)) {
    const m = item.match(/^([a-z][a-z0-9-]{1,62}):(read|write)$/);
    if (!m) throw new Error(`"${item}" is not a scope item: use "resource:read" or "resource:write"`);
    const level: GrantLevel = m[2] === "write" ? "read_write" : "read";
    if (byResource.get(m[1]) !== "read_write") byResource.set(m[1], level);
  }
  return [...byResource].map(([resource, level]) => ({ resource, level }));
}

/** What a token may do today: its scope, narrowed to the grants the authorization still has. */
export function narrowGrants(grants: readonly ResourceGrant[], scope: string): ResourceGrant[] {
  const requested = new Map(scopeToGrants(scope).map((g) => [g.resource, g.level]));
  return grants.flatMap((g): ResourceGrant[] => {
    const level = requested.get(g.resource);
    if (!level) return [];
    return [{ resource: g.resource, level: level === "read_write" && g.level === "read_write" ? "read_write" : "read" }];
  });
}
