import { readFileSync } from "node:fs";
import path from "node:path";
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { AdminServiceService } from "../sdk/src/gen/a2a/v1/admin_service";
import { AuditServiceService } from "../sdk/src/gen/a2a/v1/audit_service";
import { TokenServiceService } from "../sdk/src/gen/a2a/v1/token_service";
import { withRawRequests } from "../sdk/src/raw-request";
import { createAdministrator, writeAdminCredentials, type AdminCredentials } from "./bootstrap";
import type { Config } from "./config";
import { KeyRing } from "./domain/secrets";
import { TokenSigner } from "./domain/tokens";
import { serverStream, unary, type MethodSpec, type PipelineDeps, type StreamSpec } from "./interceptors/unary";
import { createLogger, type Logger } from "./logger";
import { loadMasterKey } from "./master-key";
import { applicationMethods } from "./services/admin/applications";
import { authorizationMethods } from "./services/admin/authorizations";
import { resourceMethods } from "./services/admin/resources";
import { auditMethods } from "./services/audit";
import type { ServiceDeps } from "./services/deps";
import { HealthState } from "./services/health";
import { DescriptorIndex, reflectionServices } from "./services/reflection";
import { tokenMethods } from "./services/token";
import { AuditWriter, dropExpiredPartitions } from "./store/audit";
import { openDatabase, type Database } from "./store/db";
import { nonces } from "./store/nonces";
import { revocations } from "./store/revocations";
import { signingKeyStore } from "./store/signing-keys";

export const DESCRIPTOR_SET = path.join(__dirname, "gen", "descriptor-set.binpb");

export interface A2AServer {
  /** host:port actually bound (port 0 resolved). */
  readonly address: string;
  readonly port: number;
  readonly database: Database;
  /** Set on the first start of an empty store: the administrator's credentials. */
  readonly bootstrap?: AdminCredentials;
  /** Graceful: stops accepting, lets calls finish (up to `graceMs`), flushes the audit trail. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Adds one of A2A's services: every RPC of the definition must have a spec, and each runs
 * through the unary pipeline, which sees the request bytes as received (OAuth 1.0 body hash).
 */
function addA2AService(
  server: Server,
  definition: ServiceDefinition,
  specs: Record<string, MethodSpec<any, any> | StreamSpec<any, any>>,
  deps: PipelineDeps,
  closing: AbortSignal,
): void {
  const impl: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const spec = specs[name];
    if (!spec) throw new Error(`no handler for ${method.path}`);
    impl[name] = method.responseStream
      ? serverStream(method.path, spec as StreamSpec<any, any>, deps, closing)
      : unary(method.path, spec as MethodSpec<any, any>, deps);
  }
  server.addService(withRawRequests(definition), impl);
}

function credentials(env: NodeJS.ProcessEnv): ServerCredentials {
  if (!env.A2A_TLS_CERT && !env.A2A_TLS_KEY) return ServerCredentials.createInsecure();
  if (!env.A2A_TLS_CERT || !env.A2A_TLS_KEY) throw new Error("A2A_TLS_CERT and A2A_TLS_KEY: set both or neither");
  return ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(env.A2A_TLS_CERT), private_key: readFileSync(env.A2A_TLS_KEY) }], false);
}

/** The composition root: config -> store -> keys -> services -> listening server. */
export async function startServer(config: Config, options: { logger?: Logger; env?: NodeJS.ProcessEnv } = {}): Promise<A2AServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const serverCredentials = credentials(options.env ?? process.env);
  const database = await openDatabase({
    databaseUrl: config.databaseUrl, dataDir: config.dataDir, log: (level, message) => logger.log(level, "store driver", { message }),
  });
  const db = database.knex;
  try {
    const ring = new KeyRing(loadMasterKey(config.masterKey, config.dataDir, logger));
    const signer = new TokenSigner(signingKeyStore(db), ring, config.issuer, config.tokenTtlSeconds);
    await signer.init();

    let bootstrap: AdminCredentials | undefined;
    if (config.bootstrapAdmin) {
      bootstrap = await createAdministrator(db, ring, { onlyIfEmpty: true, createdBy: "bootstrap" });
      if (bootstrap) {
        const file = config.dataDir === ":memory:" ? undefined : writeAdminCredentials(config.dataDir, bootstrap);
        logger.info("created the administrator", { clientId: bootstrap.client_id, file });
      }
    }

    const audit = new AuditWriter(db);
    await audit.ready();
    const deps: ServiceDeps & PipelineDeps = {
      db, ring, signer, config, logger, audit, nodeName: config.nodeName, trustedProxies: config.trustedProxies,
    };
    const server = new Server({ "grpc.max_receive_message_length": 1024 * 1024 });
    const ending = new AbortController();
    addA2AService(server, AdminServiceService, { ...applicationMethods(deps), ...authorizationMethods(deps), ...resourceMethods(deps) }, deps, ending.signal);
    addA2AService(server, TokenServiceService, tokenMethods(deps), deps, ending.signal);
    addA2AService(server, AuditServiceService, auditMethods({ ...deps, feed: audit }), deps, ending.signal);

    const a2aServices = ["a2a.v1.AdminService", "a2a.v1.TokenService", "a2a.v1.AuditService"];
    const health = new HealthState(a2aServices);
    const h = health.service();
    server.addService(h.definition, h.implementation);
    const exposed = [...a2aServices, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];
    for (const r of reflectionServices(DescriptorIndex.fromFile(DESCRIPTOR_SET), exposed)) server.addService(r.definition, r.implementation);

    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(config.listen, serverCredentials, (err, p) => (err ? reject(err) : resolve(p))),
    );
    const host = config.listen.replace(/:\d+$/, "");
    const address = `${host}:${port}`;
    logger.info("A2A listening", { address, store: database.kind, node: config.nodeName });

    /** Next month's partition ahead of time; partitions past the retention dropped. */
    const auditMaintenance = async () => {
      const dropped = await dropExpiredPartitions(db, config.auditRetentionMonths, new Date());
      if (dropped.length > 0) {
        audit.forgetPartitions();
        logger.info("audit retention dropped partitions", { dropped, retentionMonths: config.auditRetentionMonths });
      }
      await audit.ready();
    };
    await auditMaintenance();

    const purge = setInterval(() => {
      revocations.purgeExpired(db, new Date()).catch((error) => logger.warn("could not purge expired revocations", { error }));
      nonces.purgeExpired(db, new Date()).catch((error) => logger.warn("could not purge expired OAuth 1.0 nonces", { error }));
      auditMaintenance().catch((error) => logger.warn("audit maintenance failed", { error }));
    }, 10 * 60 * 1000);
    purge.unref();

    let closing: Promise<void> | undefined;
    const close = (graceMs = 10_000) =>
      (closing ??= (async () => {
        clearInterval(purge);
        health.shutdown();
        ending.abort(); // live tails end; unary calls finish
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => { server.forceShutdown(); resolve(); }, graceMs);
          server.tryShutdown(() => { clearTimeout(timer); resolve(); });
        });
        await audit.flush();
        await database.close();
        logger.info("A2A stopped", { address });
      })());

    return { address, port, database, bootstrap, close };
  } catch (e) {
    await database.close();
    throw e;
  }
}
