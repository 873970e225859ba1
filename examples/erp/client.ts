/**
 * The ERP side: obtains an A2A token with its Client ID / Client Secret and calls PAM Core.
 * The SDK's interceptor attaches the token, caches it and refreshes it; the ERP code never
 * touches it.
 *
 *   A2A_ADDRESS=127.0.0.1:50051 PAM_ADDRESS=127.0.0.1:50061 \
 *   ERP_CLIENT_ID=… ERP_CLIENT_SECRET=… [ERP_REFERER=https://erp.example.com] \
 *   node --import tsx examples/erp/client.ts
 */
import { bearerAuth, ClientCredentialsTokenSource, createClient } from "@a2a/sdk";
import { CredentialServiceDefinition } from "../gen/pam/v1/credential_service";

export interface ErpOptions {
  readonly a2aAddress: string;
  readonly pamAddress: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Sent as `referer` metadata, for authorizations with allowed_referers. */
  readonly referer?: string;
}

/** A PAM Core client for the ERP: every call carries a fresh A2A token. */
export function connectPam(options: ErpOptions) {
  const metadata = options.referer ? { referer: options.referer } : undefined;
  const tokens = new ClientCredentialsTokenSource({
    address: options.a2aAddress, clientId: options.clientId, clientSecret: options.clientSecret, metadata,
  });
  const pam = createClient(CredentialServiceDefinition, options.pamAddress, { interceptors: [bearerAuth(tokens)], metadata });
  return {
    pam,
    tokens,
    close() {
      pam.close();
      tokens.close();
    },
  };
}

if (require.main === module) {
  const env = process.env;
  const { pam, close } = connectPam({
    a2aAddress: env.A2A_ADDRESS ?? "127.0.0.1:50051",
    pamAddress: env.PAM_ADDRESS ?? "127.0.0.1:50061",
    clientId: env.ERP_CLIENT_ID ?? "",
    clientSecret: env.ERP_CLIENT_SECRET ?? "",
    referer: env.ERP_REFERER,
  });
  (async () => {
    const { credentials } = await pam.listCredentials({});
    process.stdout.write(`ERP sees ${credentials.length} credentials: ${credentials.map((c) => `${c.id}=${c.username}`).join(", ")}\n`);
    const { credential } = await pam.updateCredential({ id: credentials[0].id, username: `${credentials[0].username}_rotated` });
    process.stdout.write(`ERP updated ${credential!.id}: username is now ${credential!.username}\n`);
  })().then(
    () => { close(); },
    (e: { code?: number; details?: string; message?: string }) => {
      process.stderr.write(`erp: ${e.details ?? e.message} (gRPC status ${e.code})\n`);
      close();
      process.exitCode = 1;
    },
  );
}
