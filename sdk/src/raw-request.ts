import type { ServiceDefinition } from "@grpc/grpc-js";

const raw = new WeakMap<object, Buffer>();

/**
 * A copy of a grpc-js service definition whose request deserializers remember the bytes each
 * message was decoded from, for checks that need the message exactly as it came over the
 * wire (the OAuth 1.0 body hash). `rawRequest(call.request)` returns them.
 */
export function withRawRequests<D extends ServiceDefinition>(definition: D): D {
  const copy: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    copy[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        const message = method.requestDeserialize(bytes);
        if (message !== null && typeof message === "object") raw.set(message, bytes);
        return message;
      },
    };
  }
  return copy as D;
}

/** The bytes a request message was decoded from, when its service was added `withRawRequests`. */
export function rawRequest(message: unknown): Buffer | undefined {
  return message !== null && typeof message === "object" ? raw.get(message) : undefined;
}
