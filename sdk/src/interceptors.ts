import { InterceptingCall, Metadata, status, type Interceptor, type InterceptorOptions, type InterceptingListener, type StatusObject } from "@grpc/grpc-js";
import { signCall, type OAuth1Keys, type SignatureMethod } from "./oauth1";
import type { TokenSource } from "./token-source";

/**
 * Attaches `authorization: Bearer <token>` from a TokenSource to every call.
 *
 * Adds: the authorization metadata. Needs: nothing before it; put it last among
 * interceptors that change metadata, so they cannot overwrite it.
 *
 * When the server answers UNAUTHENTICATED before sending any message (the token was revoked,
 * or the key rotated), it drops that token, fetches a new one and retries the call once.
 * Client-streaming calls are not retried (their messages are not kept).
 */
export function bearerAuth(source: TokenSource): Interceptor {
  return (options: InterceptorOptions, nextCall) => {
    const retryable = !options.method_definition.requestStream;
    let message: unknown;
    let hasMessage = false;
    let halfClosed = false;

    const failNoToken = (listener: InterceptingListener, error: unknown) => {
      const e = error as { code?: number; details?: string; message?: string };
      listener.onReceiveStatus({
        // A2A's own answer (UNAUTHENTICATED, PERMISSION_DENIED for an IP rule, UNAVAILABLE…) is kept.
        code: typeof e.code === "number" && e.code !== status.OK ? e.code : status.UNAUTHENTICATED,
        details: `could not obtain an access token: ${e.details ?? e.message}`,
        metadata: new Metadata(),
      } as StatusObject);
    };

    return new InterceptingCall(nextCall(options), {
      // `upper` is the caller's listener; this interceptor delivers to it directly so that it
      // can hold back the first attempt's headers until it knows whether it will retry.
      start(metadata, upperListener, next) {
        const listener = upperListener as unknown as InterceptingListener;
        source.getToken().then(
          (token) => {
            const md = metadata.clone();
            md.set("authorization", `Bearer ${token}`);
            let headers: Metadata | undefined;
            let gotMessage = false;
            let emptyResponse = false;
            next(md, {
              // Headers are held back until we know this attempt is the one that counts.
              onReceiveMetadata(m: Metadata) {
                headers = m;
              },
              onReceiveMessage(msg: unknown) {
                // grpc-js signals "no response message" on unary calls with a null message
                // just before the status: hold it back like the headers.
                if (msg === null && !gotMessage) {
                  emptyResponse = true;
                  return;
                }
                if (!gotMessage && headers) listener.onReceiveMetadata(headers);
                gotMessage = true;
                listener.onReceiveMessage(msg);
              },
              onReceiveStatus(st: StatusObject) {
                if (st.code !== status.UNAUTHENTICATED || gotMessage || !retryable || !hasMessage || !halfClosed) {
                  if (!gotMessage && headers) listener.onReceiveMetadata(headers);
                  if (emptyResponse) listener.onReceiveMessage(null);
                  listener.onReceiveStatus(st);
                  return;
                }
                source.invalidate(token);
                source.getToken().then(
                  (fresh) => {
                    const retryMd = metadata.clone();
                    retryMd.set("authorization", `Bearer ${fresh}`);
                    const retry = nextCall(options);
                    retry.start(retryMd, {
                      onReceiveMetadata: (m) => listener.onReceiveMetadata(m),
                      onReceiveMessage: (msg) => listener.onReceiveMessage(msg),
                      onReceiveStatus: (s) => listener.onReceiveStatus(s),
                    });
                    retry.sendMessage(message);
                    retry.halfClose();
                  },
                  (error) => failNoToken(listener, error),
                );
              },
            });
          },
          (error) => failNoToken(listener, error),
        );
      },
      sendMessage(msg, next) {
        message = msg;
        hasMessage = true;
        next(msg);
      },
      halfClose(next) {
        halfClosed = true;
        next();
      },
    });
  };
}

export interface OAuth1AuthOptions {
  /**
   * The authority the channel dials (host:port, as in the address given to createClient);
   * it is signed, so a request replayed to another server fails.
   */
  readonly authority: string;
  /** Default HMAC-SHA256. */
  readonly signatureMethod?: SignatureMethod;
}

/**
 * Signs every call with OAuth 1.0 (RFC 5849, two-legged): `authorization: OAuth …` over the
 * method path, the authority and the SHA-256 (or SHA-1) of the serialized request message,
 * with a fresh nonce and timestamp. Each call is signed on its own; nothing is cached.
 *
 * Adds: the authorization metadata. Needs: the request message before the metadata is sent,
 * so the call's start is held until the first message; put it last among interceptors that
 * change metadata. Client-streaming calls sign their first message only.
 */
export function oauth1Auth(keys: OAuth1Keys, options: OAuth1AuthOptions): Interceptor {
  return (callOptions: InterceptorOptions, nextCall) => {
    const definition = callOptions.method_definition;
    let held: { metadata: Metadata; listener: InterceptingListener; next: (md: Metadata, listener: InterceptingListener) => void } | undefined;
    return new InterceptingCall(nextCall(callOptions), {
      start(metadata, listener, next) {
        held = { metadata, listener: listener as unknown as InterceptingListener, next: next as never };
      },
      sendMessage(message, next) {
        if (held) {
          const md = held.metadata.clone();
          const body = definition.requestSerialize(message);
          md.set("authorization", signCall(keys, { authority: options.authority, path: definition.path, body }, { signatureMethod: options.signatureMethod }));
          const { listener, next: start } = held;
          held = undefined;
          start(md, listener);
        }
        next(message);
      },
    });
  };
}
