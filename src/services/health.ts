import { status, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { HealthCheckResponse_ServingStatus as Serving, HealthService, type HealthCheckRequest, type HealthCheckResponse } from "../../sdk/src/gen/grpc/health/v1/health";

/**
 * grpc.health.v1. "" is the server as a whole; each served service answers by its full name.
 * `shutdown()` turns everything NOT_SERVING (and ends watches) before the server stops.
 */
export class HealthState {
  private serving = true;
  private readonly watchers = new Set<{ service: string; call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse> }>();

  constructor(private readonly services: readonly string[]) {}

  private statusOf(service: string): Serving | undefined {
    if (service !== "" && !this.services.includes(service)) return undefined;
    return this.serving ? Serving.SERVING : Serving.NOT_SERVING;
  }

  shutdown(): void {
    this.serving = false;
    for (const w of this.watchers) {
      w.call.write({ status: Serving.NOT_SERVING });
      w.call.end();
    }
    this.watchers.clear();
  }

  service() {
    const implementation = {
      check: (call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: sendUnaryData<HealthCheckResponse>) => {
        const s = this.statusOf(call.request.service);
        if (s === undefined) callback({ code: status.NOT_FOUND, details: `service "${call.request.service}" is not served here` });
        else callback(null, { status: s });
      },
      watch: (call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
        const service = call.request.service;
        call.write({ status: this.statusOf(service) ?? Serving.SERVICE_UNKNOWN });
        if (!this.serving) return call.end();
        const entry = { service, call };
        this.watchers.add(entry);
        call.on("cancelled", () => this.watchers.delete(entry));
      },
    };
    return { definition: HealthService, implementation: implementation as UntypedServiceImplementation };
  }
}
