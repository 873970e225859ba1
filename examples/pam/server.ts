/**
 * A PAM-Core-like resource server protected by the A2A guard.
 *
 *   A2A_ADDRESS=127.0.0.1:50051 PAM_LISTEN=127.0.0.1:50061 \
 *   PAM_CLIENT_ID=… PAM_CLIENT_SECRET=… node --import tsx examples/pam/server.ts
 *
 * PAM_CLIENT_ID/SECRET (optional) are the PAM server's own A2A authorization, used to
 * introspect tokens so that disabling or revoking takes effect at once, and to have A2A
 * check OAuth 1.0 signed calls.
 */
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from "@grpc/grpc-js";
import { createGuard, guardPrincipal, type GuardOptions } from "@a2a/sdk";
import {
  CredentialServiceService, type Credential, type ListCredentialsRequest, type ListCredentialsResponse,
  type UpdateCredentialRequest, type UpdateCredentialResponse,
} from "../gen/pam/v1/credential_service";

export interface PamServer {
  readonly address: string;
  /** What the service holds now (for tests). */
  readonly credentials: Map<string, Credential>;
  close(): Promise<void>;
}

export async function startPamServer(options: {
  listen?: string;
  a2aAddress: string;
  introspection?: GuardOptions["introspection"];
  /** PAM's own A2A keys for OAuth 1.0 calls when it does not introspect. */
  account?: GuardOptions["account"];
  trustedProxies?: string[];
}): Promise<PamServer> {
  const credentials = new Map<string, Credential>(
    [
      { id: "cred-sap", name: "SAP service account", username: "svc_sap" },
      { id: "cred-bank", name: "Bank API account", username: "svc_bank" },
    ].map((c) => [c.id, { ...c, updateTime: new Date(0), updatedBy: "" }]),
  );

  const guard = createGuard({
    a2aAddress: options.a2aAddress,
    resource: "pam-core",
    introspection: options.introspection,
    account: options.account,
    trustedProxies: options.trustedProxies,
  });

  const implementation = {
    listCredentials(_call: ServerUnaryCall<ListCredentialsRequest, ListCredentialsResponse>, callback: sendUnaryData<ListCredentialsResponse>) {
      callback(null, { credentials: [...credentials.values()] });
    },
    updateCredential(call: ServerUnaryCall<UpdateCredentialRequest, UpdateCredentialResponse>, callback: sendUnaryData<UpdateCredentialResponse>) {
      const current = credentials.get(call.request.id);
      if (!current) return callback({ code: 5, details: `credential "${call.request.id}" not found` }, null);
      if (!call.request.username) return callback({ code: 3, details: "username: is required" }, null);
      const next = { ...current, username: call.request.username, updateTime: new Date(), updatedBy: guardPrincipal(call)!.clientId };
      credentials.set(next.id, next);
      callback(null, { credential: next });
    },
  };

  const server = new Server();
  guard.addService(server, CredentialServiceService, implementation, { listCredentials: "read" });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(options.listen ?? "127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return {
    address: `${(options.listen ?? "127.0.0.1:0").replace(/:\d+$/, "")}:${port}`,
    credentials,
    close: () =>
      new Promise<void>((resolve) => {
        guard.close();
        server.tryShutdown(() => resolve());
      }),
  };
}

if (require.main === module) {
  const env = process.env;
  startPamServer({
    listen: env.PAM_LISTEN ?? "127.0.0.1:50061",
    a2aAddress: env.A2A_ADDRESS ?? "127.0.0.1:50051",
    introspection: env.PAM_CLIENT_ID && env.PAM_CLIENT_SECRET ? { clientId: env.PAM_CLIENT_ID, clientSecret: env.PAM_CLIENT_SECRET } : undefined,
  }).then(
    (pam) => {
      process.stdout.write(`PAM Core example listening on ${pam.address} (resource "pam-core")\n`);
      const stop = () => pam.close().then(() => process.exit(0));
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
    },
    (e) => {
      process.stderr.write(`pam: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
