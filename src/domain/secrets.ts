import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { crc32 } from "node:zlib";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function base62(bytes: Buffer, width: number): string {
  let n = BigInt(`0x${bytes.toString("hex") || "0"}`);
  let out = "";
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out.padStart(width, "0");
}

/** Client ids are public: "a2a_ci_" + 128 random bits. */
export const CLIENT_ID_PATTERN = /^a2a_ci_[0-9A-Za-z]{22}$/;
/**
 * Client secrets: "a2a_cs_" + 256 random bits + a CRC-32 of them, all base62, so secret
 * scanners can match them (`a2a_cs_[0-9A-Za-z]{49}`) and verify the checksum offline.
 */
export const CLIENT_SECRET_PATTERN = /a2a_cs_[0-9A-Za-z]{49}/;

export function newClientId(): string {
  return `a2a_ci_${base62(randomBytes(16), 22)}`;
}

/** OAuth 1.0 tokens (RFC 5849 token credentials) are sent with every call: "a2a_ot_" + 128 bits. */
export const OAUTH1_TOKEN_PATTERN = /^a2a_ot_[0-9A-Za-z]{22}$/;

export function newOAuth1Token(): string {
  return `a2a_ot_${base62(randomBytes(16), 22)}`;
}

function checksummed(prefix: string): string {
  const body = base62(randomBytes(32), 43);
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(crc32(body));
  return `${prefix}${body}${base62(sum, 6)}`;
}

export function newClientSecret(): string {
  return checksummed("a2a_cs_");
}

/** OAuth 1.0 token secrets: "a2a_ts_", same shape as client secrets (`a2a_ts_[0-9A-Za-z]{49}`). */
export function newOAuth1TokenSecret(): string {
  return checksummed("a2a_ts_");
}

/** True when the text has the secret format and its checksum holds (no store lookup). */
export function isWellFormedSecret(secret: string, prefix = "a2a_cs_"): boolean {
  if (secret.length !== 56 || !secret.startsWith(prefix)) return false;
  const body = secret.slice(7, 50);
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(crc32(body));
  return /^[0-9A-Za-z]{49}$/.test(secret.slice(7)) && base62(sum, 6) === secret.slice(50);
}

/**
 * Keys derived from the master key (HKDF-SHA256, one per purpose): AES-256-GCM for secrets
 * kept at rest, HMAC-SHA256 for looking secrets up without storing them.
 */
export class KeyRing {
  private readonly encryptionKey: Buffer;
  private readonly hashKey: Buffer;
  private readonly auditKey: Buffer;

  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error("the master key must be 32 bytes");
    const derive = (info: string) => Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), `a2a ${info} v1`, 32));
    this.encryptionKey = derive("encryption");
    this.hashKey = derive("secret-hash");
    this.auditKey = derive("audit-hash");
  }

  /**
   * How the audit trail records a sensitive identifier (a token): HMAC-SHA256 under the audit
   * key, so that equal values can be correlated and searched for, but not read back.
   */
  auditHash(value: string): string {
    return `hmac-sha256:${createHmac("sha256", this.auditKey).update(value).digest("hex")}`;
  }

  /**
   * AES-256-GCM; `context` is bound as additional data so a ciphertext copied onto another
   * row fails to decrypt. Format: "v1." + base64url(iv | tag | ciphertext).
   */
  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.encryptionKey, iv);
    cipher.setAAD(Buffer.from(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return `v1.${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString("base64url")}`;
  }

  decrypt(sealed: string, context: string): string {
    if (!sealed.startsWith("v1.")) throw new Error("unknown ciphertext version");
    const raw = Buffer.from(sealed.slice(3), "base64url");
    const decipher = createDecipheriv("aes-256-gcm", this.encryptionKey, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
  }

  /** Keyed hash of a secret: what the store keeps to verify it. */
  hashSecret(secret: string): string {
    return createHmac("sha256", this.hashKey).update(secret).digest("base64url");
  }

  /** Constant-time check of a presented secret against a stored hash. */
  secretMatches(secret: string, storedHash: string): boolean {
    const a = Buffer.from(this.hashSecret(secret));
    const b = Buffer.from(storedHash);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
