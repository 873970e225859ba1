import type { Knex } from "knex";
import type { Config } from "../config";
import type { KeyRing } from "../domain/secrets";
import type { TokenSigner } from "../domain/tokens";

/** What the service handlers need; assembled once in server.ts. */
export interface ServiceDeps {
  readonly db: Knex;
  readonly ring: KeyRing;
  readonly signer: TokenSigner;
  readonly config: Config;
}

/** PostgreSQL's unique_violation, from pg and PGlite alike. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string })?.code === "23505";
}
