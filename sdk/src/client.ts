import {
  Client, credentials as grpcCredentials, Metadata, type CallOptions, type ChannelCredentials, type ChannelOptions,
  type Interceptor, type ServiceError,
} from "@grpc/grpc-js";

/** The shape of a ts-proto message namespace (`outputServices=generic-definitions`). */
export interface MessageType<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromPartial(object: any): T;
}

/** A ts-proto generic service definition, e.g. `TokenServiceDefinition`. */
export interface ServiceDefinition {
  readonly name: string;
  readonly fullName: string;
  readonly methods: Record<string, {
    readonly name: string;
    readonly requestType: MessageType<any>;
    readonly requestStream: boolean;
    readonly responseType: MessageType<any>;
    readonly responseStream: boolean;
    readonly options: { readonly idempotencyLevel?: string };
  }>;
}

type Builtin = Date | Function | Uint8Array | string | number | boolean | bigint | undefined | null;
/** What a request may leave out: ts-proto fills in defaults (`fromPartial`). */
export type DeepPartial<T> = T extends Builtin ? T
  : T extends Array<infer U> ? Array<DeepPartial<U>>
  : T extends {} ? { [K in keyof T]?: DeepPartial<T[K]> }
  : Partial<T>;

type MessageOf<M> = M extends { decode(input: Uint8Array, ...rest: any[]): infer T } ? T : never;

export interface RpcOptions {
  readonly metadata?: Metadata | Record<string, string>;
  /** A Date, or milliseconds from now. */
  readonly deadline?: Date | number;
  readonly signal?: AbortSignal;
}

/** Promise-based methods for unary RPCs, async iterables for server-streaming ones. */
export type PromiseClient<S extends ServiceDefinition> = {
  [K in keyof S["methods"]]: S["methods"][K]["requestStream"] extends true
    ? never
    : S["methods"][K]["responseStream"] extends true
      ? (request: DeepPartial<MessageOf<S["methods"][K]["requestType"]>>, options?: RpcOptions) => AsyncIterable<MessageOf<S["methods"][K]["responseType"]>>
      : (request: DeepPartial<MessageOf<S["methods"][K]["requestType"]>>, options?: RpcOptions) => Promise<MessageOf<S["methods"][K]["responseType"]>>;
} & {
  /** The underlying grpc-js client (for waitForReady, getChannel, …). */
  readonly grpcClient: Client;
  close(): void;
};

export interface ClientOptions {
  /** Channel credentials; plaintext when omitted. */
  readonly credentials?: ChannelCredentials;
  /** grpc-js interceptors, outermost first (e.g. `bearerAuth(tokenSource)`). */
  readonly interceptors?: Interceptor[];
  /** Metadata sent on every call (e.g. `{ referer: "https://erp.example.com" }`). */
  readonly metadata?: Record<string, string>;
  readonly channelOptions?: ChannelOptions;
}

function toMetadata(base: Record<string, string> | undefined, extra: RpcOptions["metadata"]): Metadata {
  const md = new Metadata();
  for (const [k, v] of Object.entries(base ?? {})) md.set(k, v);
  if (extra instanceof Metadata) md.merge(extra);
  else for (const [k, v] of Object.entries(extra ?? {})) md.set(k, v);
  return md;
}

function callOptions(options: RpcOptions | undefined): CallOptions {
  const deadline = options?.deadline;
  return deadline === undefined ? {} : { deadline: typeof deadline === "number" ? Date.now() + deadline : deadline };
}

/**
 * A typed, promise-based client for any ts-proto service, over one grpc-js channel. Requests
 * may be partial (defaults filled in); errors reject with grpc-js's ServiceError (`code`,
 * `details`, `metadata`).
 */
export function createClient<S extends ServiceDefinition>(definition: S, address: string, options: ClientOptions = {}): PromiseClient<S> {
  const client = new Client(address, options.credentials ?? grpcCredentials.createInsecure(), {
    ...options.channelOptions,
    interceptors: options.interceptors ?? [],
  });
  const out: Record<string, unknown> = { grpcClient: client, close: () => client.close() };
  for (const [key, method] of Object.entries(definition.methods)) {
    const path = `/${definition.fullName}/${method.name}`;
    const serialize = (value: unknown) => Buffer.from(method.requestType.encode(method.requestType.fromPartial(value)).finish());
    const deserialize = (bytes: Buffer) => method.responseType.decode(bytes);
    if (method.requestStream) continue;
    if (method.responseStream) {
      out[key] = (request: unknown, rpc?: RpcOptions) => {
        const stream = client.makeServerStreamRequest(path, serialize, deserialize, request, toMetadata(options.metadata, rpc?.metadata), callOptions(rpc));
        rpc?.signal?.addEventListener("abort", () => stream.cancel(), { once: true });
        return stream as AsyncIterable<unknown>;
      };
    } else {
      out[key] = (request: unknown, rpc?: RpcOptions) =>
        new Promise((resolve, reject) => {
          const call = client.makeUnaryRequest(path, serialize, deserialize, request, toMetadata(options.metadata, rpc?.metadata), callOptions(rpc),
            (error: ServiceError | null, response?: unknown) => (error ? reject(error) : resolve(response)));
          rpc?.signal?.addEventListener("abort", () => call.cancel(), { once: true });
        });
    }
  }
  return out as PromiseClient<S>;
}
