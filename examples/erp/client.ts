/**
 * The ERP side: obtains an A2A token with its Client ID / Client Secret and calls PAM Core.
 * The SDK's interceptor attaches the token, caches it and refreshes it; the ERP code never
 * touches it.
 *
 *   A2A_ADDRESS=127.0.0.1:50051 PAM_ADDRESS=127.0.0.1:50061 \
 *   ERP_CLIENT_ID=… ERP_CLIENT_SECRET=… [ERP_REFERER=https://erp.example.com] \
 *   node --import tsx examples/erp/client.ts
 *
 * OAuth 1.0: add ERP_TOKEN=… ERP_TOKEN_SECRET=… (ERP_CLIENT_ID/SECRET are the consumer key
 * and secret). AWS IAM: ERP_CLIENT_ID=… ERP_AWS_SERVER_ID=… with the AWS SDK's usual
 * credentials (environment, profile, instance role).
 */
import { clientAuth, createClient, type ClientAuth } from "@a2a/sdk";
import { CredentialServiceDefinition } from "../gen/pam/v1/credential_service";

export type ErpOptions = {
  readonly a2aAddress: string;
  readonly pamAddress: string;
  /** Sent as `referer` metadata, for authorizations with allowed_referers. */
  readonly referer?: string;
} & ClientAuth;

/**
 * A PAM Core client for the ERP: every call carries a fresh A2A token (OAuth 2.0, AWS) or its
 * own OAuth 1.0 signature, whichever method the ERP's application uses.
 */
export function connectPam(options: ErpOptions) {
  const metadata = options.referer ? { referer: options.referer } : undefined;
  // Tokens come from A2A; OAuth 1.0 signatures are made for PAM's address.
  const { interceptor, tokens } = clientAuth(options, { address: options.a2aAddress, target: options.pamAddress, metadata });
  const pam = createClient(CredentialServiceDefinition, options.pamAddress, { interceptors: [interceptor], metadata });
  return {
    pam,
    tokens,
    close() {
      pam.close();
      tokens?.close();
    },
  };
}

/**
 * OAuth 1.0 when ERP_TOKEN is set (ERP_CLIENT_ID is the consumer key), AWS IAM when
 * ERP_AWS_SERVER_ID is set (AWS credentials from the AWS SDK's default chain), else OAuth 2.0.
 */
function authFromEnv(env: NodeJS.ProcessEnv): ClientAuth {
  const clientId = env.ERP_CLIENT_ID ?? "";
  if (env.ERP_TOKEN) {
    return { oauth1: { consumerKey: clientId, consumerSecret: env.ERP_CLIENT_SECRET ?? "", token: env.ERP_TOKEN, tokenSecret: env.ERP_TOKEN_SECRET ?? "" } };
  }
  if (env.ERP_AWS_SERVER_ID) return { aws: { clientId, serverId: env.ERP_AWS_SERVER_ID, stsEndpoint: env.ERP_AWS_STS_ENDPOINT } };
  return { clientId, clientSecret: env.ERP_CLIENT_SECRET ?? "" };
}

if (require.main === module) {
  const env = process.env;
  const { pam, close } = connectPam({
    a2aAddress: env.A2A_ADDRESS ?? "127.0.0.1:50051",
    pamAddress: env.PAM_ADDRESS ?? "127.0.0.1:50061",
    referer: env.ERP_REFERER,
    ...authFromEnv(env),
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
