import { InterceptingCall, Metadata, status, type Interceptor, type InterceptorOptions, type InterceptingListener, type StatusObject } from "@grpc/grpc-js";
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
