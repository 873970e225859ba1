import { parseIpRule, parseRefererRule } from "../../sdk/src/policy";
import { InvalidArgumentError } from "./errors";

/**
 * Field rules. Each check throws InvalidArgumentError naming the field (with its index for
 * lists) and the rule, e.g. `allowed_ips[2]: "10.0.0.0/33" is not a CIDR block`.
 */

const CONTROL = /[\u0000-\u001f\u007f]/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function requireId(field: string, value: string): string {
  if (!value) throw new InvalidArgumentError(field, "is required");
  if (!UUID.test(value)) throw new InvalidArgumentError(field, `"${preview(value)}" is not an id (a UUID)`);
  return value.toLowerCase();
}

/** Shows at most 60 characters of a rejected value, so a 10 kB value does not echo back. */
export function preview(value: string): string {
  return value.length > 60 ? `${value.slice(0, 60)}…` : value;
}

export function text(field: string, value: string, opts: { required?: boolean; max: number }): string {
  const v = value.trim();
  if (opts.required && v.length === 0) throw new InvalidArgumentError(field, "is required and must not be blank");
  if (v.length > opts.max) throw new InvalidArgumentError(field, `must be at most ${opts.max} characters, got ${v.length}`);
  // Free text may span lines; other control characters are refused.
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v)) {
    throw new InvalidArgumentError(field, "must not contain control characters");
  }
  return v;
}

/** A single-line label: no control characters at all. */
export function label(field: string, value: string, opts: { required?: boolean; max: number }): string {
  const v = text(field, value, opts);
  if (CONTROL.test(v)) throw new InvalidArgumentError(field, "must be a single line without control characters");
  return v;
}

export function list<T>(field: string, values: readonly string[], opts: { min?: number; max: number }, each: (v: string, f: string) => T): T[] {
  if (values.length < (opts.min ?? 0)) {
    throw new InvalidArgumentError(field, `needs at least ${opts.min} ${opts.min === 1 ? "entry" : "entries"}`);
  }
  if (values.length > opts.max) throw new InvalidArgumentError(field, `allows at most ${opts.max} entries, got ${values.length}`);
  return values.map((v, i) => each(v, `${field}[${i}]`));
}

export function unique(field: string, values: readonly string[]): void {
  const seen = new Set<string>();
  values.forEach((v, i) => {
    if (seen.has(v)) throw new InvalidArgumentError(`${field}[${i}]`, `"${preview(v)}" is listed twice`);
    seen.add(v);
  });
}

export const RESOURCE_NAME = /^[a-z][a-z0-9-]{1,62}$/;

export function resourceName(field: string, value: string): string {
  if (!value) throw new InvalidArgumentError(field, "is required");
  if (!RESOURCE_NAME.test(value)) {
    throw new InvalidArgumentError(field, `"${preview(value)}" is not a resource name: 2-63 lower-case letters, digits or '-', starting with a letter`);
  }
  return value;
}

export function tags(field: string, values: readonly string[]): string[] {
  const out = list(field, values, { max: 50 }, (v, f) => {
    const t = label(f, v, { required: true, max: 64 });
    if (/\s/.test(t)) throw new InvalidArgumentError(f, `"${preview(t)}" must not contain spaces`);
    return t;
  });
  unique(field, out);
  return out;
}

/** Canonical CIDR text; "*" stays "*". */
export function allowedIps(field: string, values: readonly string[]): string[] {
  const out = list(field, values, { min: 1, max: 200 }, (v, f) => {
    try {
      const rule = parseIpRule(v);
      return rule === "*" ? "*" : rule.text;
    } catch (e) {
      throw new InvalidArgumentError(f, (e as Error).message);
    }
  });
  unique(field, out);
  return out;
}

export function allowedReferers(field: string, values: readonly string[]): string[] {
  const out = list(field, values, { max: 100 }, (v, f) => {
    try {
      return parseRefererRule(v).text;
    } catch (e) {
      throw new InvalidArgumentError(f, (e as Error).message);
    }
  });
  unique(field, out);
  return out;
}

/** IAM user/role ARNs (or assumed-role ARNs); "*" may stand for any run of characters. */
const ARN = /^arn:(aws|aws-cn|aws-us-gov):(iam|sts)::(\d{12}|\*):[A-Za-z0-9+=,.@_/*-]{1,512}$/;

export function awsArns(field: string, values: readonly string[]): string[] {
  const out = list(field, values, { max: 100 }, (v, f) => {
    if (!ARN.test(v)) throw new InvalidArgumentError(f, `"${preview(v)}" is not an IAM ARN like "arn:aws:iam::123456789012:role/name"`);
    return v;
  });
  unique(field, out);
  return out;
}

const MIN_TIME = Date.UTC(1970, 0, 1);
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59);

/** A timestamp the store can hold: 1970-01-01 to 9999-12-31 (unset stays unset). */
export function timestamp(field: string, value: Date | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const t = value.getTime();
  if (Number.isNaN(t) || t < MIN_TIME || t > MAX_TIME) {
    throw new InvalidArgumentError(field, "must be a time between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z");
  }
  return value;
}

/** FieldMask paths: required, each one of `allowed`; "*" selects all of them. */
export function updateMask(paths: readonly string[] | undefined, allowed: readonly string[]): Set<string> {
  if (!paths || paths.length === 0) {
    throw new InvalidArgumentError("update_mask", `is required: name the fields to change (${allowed.join(", ")}) or "*"`);
  }
  if (paths.length === 1 && paths[0] === "*") return new Set(allowed);
  paths.forEach((p, i) => {
    if (!allowed.includes(p)) {
      throw new InvalidArgumentError(`update_mask.paths[${i}]`, `"${preview(p)}" is not an updatable field; use ${allowed.join(", ")} or "*"`);
    }
  });
  return new Set(paths);
}
