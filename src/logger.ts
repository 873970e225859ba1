import winston from "winston";

/** Keys whose values are never logged, whatever object they appear in. */
const SECRET_KEY = /secret|token|password|authorization|signature|private|credential|cookie/i;

/**
 * Replaces values under secret-looking keys and any text that looks like an A2A secret or a
 * JWT. A safety net: call sites log identifiers, never credentials, in the first place.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") {
    return value.replace(/a2a_(cs|ts)_[0-9A-Za-z]{20,}/g, "[REDACTED]").replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, "[REDACTED]");
  }
  if (value === null || typeof value !== "object" || depth > 6) return value;
  if (value instanceof Error) return { name: value.name, message: redact(value.message, depth + 1), stack: redact(value.stack, depth + 1) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) && k !== "client_id" ? "[REDACTED]" : redact(v, depth + 1);
  return out;
}

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    (info as Record<string, unknown>)[key] = SECRET_KEY.test(key) ? "[REDACTED]" : redact(info[key]);
  }
  return info;
});

export type Logger = winston.Logger;

/** Structured JSON logs on stdout (or the given stream, for tests). */
export function createLogger(level: string, stream: NodeJS.WritableStream = process.stdout): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(redactFormat(), winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream })],
  });
}
