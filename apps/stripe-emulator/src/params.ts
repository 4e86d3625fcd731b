import qs from "qs";
import { type ApiError, missingParam, invalidRequest as plainInvalidRequest } from "./errors.ts";
import { fieldSpec, isRecord, type ObjectSpec, type Raw, type Spec } from "./spec.ts";

export { isRecord, type Raw };

/** A malformed parameter is a validation failure: no idempotent result is saved for it. */
function invalidRequest(message: string, param?: string, code?: string): ApiError {
  const error = plainInvalidRequest(message, param, code);
  error.validation = true;
  return error;
}

/**
 * Called when a handler reads a parameter its endpoint's spec does not declare (tests turn this into a
 * failure, so the specs in `route-specs.ts` and the handlers cannot drift apart).
 */
export type UndeclaredRead = (name: string) => void;

const QS_OPTIONS = { depth: 20, arrayLimit: 1000, parameterLimit: 10000, allowPrototypes: false } as const;

/** Parses a `application/x-www-form-urlencoded` body or a query string the way Stripe does (`a[b][0]=c`). */
export function parseForm(input: string): Raw {
  const parsed: unknown = qs.parse(input, QS_OPTIONS);
  return isRecord(parsed) ? parsed : {};
}

/** qs turns `a[0]=x` into arrays, but sparse or huge indexes into objects; accept both. */
function toArray(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (isRecord(value)) {
    const keys = Object.keys(value);
    if (keys.every((k) => /^\d+$/.test(k))) {
      return keys.sort((a, b) => Number(a) - Number(b)).map((k) => value[k]);
    }
  }
  return undefined;
}

/** Typed accessors for form parameters, producing Stripe-style validation errors. */
export class Params {
  readonly raw: Raw;
  private readonly prefix: string;
  /** The endpoint's spec of this object (undefined: not checked, e.g. a Params built inside a handler). */
  private readonly spec: ObjectSpec | undefined;
  private readonly onUndeclared: UndeclaredRead | undefined;

  constructor(raw: Raw, prefix = "", spec?: ObjectSpec, onUndeclared?: UndeclaredRead) {
    this.raw = raw;
    this.prefix = prefix;
    this.spec = spec;
    this.onUndeclared = onUndeclared;
  }

  private name(key: string): string {
    return this.prefix ? `${this.prefix}[${key}]` : key;
  }

  /** Every read goes through here, so a read of an undeclared parameter is reported. */
  private value(key: string): unknown {
    if (this.spec && this.onUndeclared && fieldSpec(this.spec, key) === undefined) {
      this.onUndeclared(this.name(key));
    }
    return this.raw[key];
  }

  private child(key: string, value: Raw, name: string, element = false): Params {
    let spec: Spec | undefined = this.spec ? fieldSpec(this.spec, key) : undefined;
    if (element) spec = spec?.kind === "array" ? spec.of : undefined;
    return new Params(value, name, spec?.kind === "object" ? spec : undefined, this.onUndeclared);
  }

  /** Whether the endpoint accepts `key` at all (always true for a Params without a spec). */
  declares(key: string): boolean {
    return this.spec === undefined || fieldSpec(this.spec, key) !== undefined;
  }

  has(key: string): boolean {
    return this.value(key) !== undefined;
  }

  /** True when the parameter was sent as an empty string (Stripe's "unset" convention). */
  isEmpty(key: string): boolean {
    return this.value(key) === "";
  }

  keys(): string[] {
    return Object.keys(this.raw);
  }

  str(key: string): string | undefined {
    const value = this.value(key);
    if (value === undefined) return undefined;
    if (typeof value !== "string") throw invalidRequest(`Invalid string: ${this.name(key)}`, this.name(key));
    return value;
  }

  /** A string, or null when sent empty. */
  nullableStr(key: string): string | null | undefined {
    const value = this.str(key);
    if (value === "") return null;
    return value;
  }

  reqStr(key: string): string {
    const value = this.str(key);
    if (value === undefined || value === "") throw missingParam(this.name(key));
    return value;
  }

  int(key: string): number | undefined {
    const value = this.str(key);
    if (value === undefined || value === "") return undefined;
    if (!/^-?\d+$/.test(value)) {
      throw invalidRequest(`Invalid integer: ${value}`, this.name(key), "parameter_invalid_integer");
    }
    return Number.parseInt(value, 10);
  }

  reqInt(key: string): number {
    const value = this.int(key);
    if (value === undefined) throw missingParam(this.name(key));
    return value;
  }

  /** A timestamp or the literal `now`. */
  timestampOrNow(key: string, now: number): number | undefined {
    if (this.value(key) === "now") return now;
    return this.int(key);
  }

  bool(key: string): boolean | undefined {
    const value = this.str(key);
    if (value === undefined || value === "") return undefined;
    if (value === "true") return true;
    if (value === "false") return false;
    throw invalidRequest(`Invalid boolean: ${value}`, this.name(key));
  }

  oneOf<const T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const value = this.str(key);
    if (value === undefined || value === "") return undefined;
    const found = allowed.find((candidate) => candidate === value);
    if (found === undefined) {
      throw invalidRequest(
        `Invalid ${this.name(key)}: must be one of ${allowed.join(", ")}`,
        this.name(key),
        "parameter_invalid_string",
      );
    }
    return found;
  }

  obj(key: string): Params | undefined {
    const value = this.value(key);
    if (value === undefined || value === "") return undefined;
    if (!isRecord(value)) throw invalidRequest(`Invalid object: ${this.name(key)}`, this.name(key));
    return this.child(key, value, this.name(key));
  }

  list(key: string): Params[] | undefined {
    const value = this.value(key);
    if (value === undefined) return undefined;
    if (value === "") return [];
    const items = toArray(value);
    if (items === undefined) throw invalidRequest(`Invalid array: ${this.name(key)}`, this.name(key));
    return items.map((item, index) => {
      if (!isRecord(item))
        throw invalidRequest(`Invalid object: ${this.name(key)}[${index}]`, this.name(key));
      return this.child(key, item, `${this.name(key)}[${index}]`, true);
    });
  }

  strList(key: string): string[] | undefined {
    const value = this.value(key);
    if (value === undefined) return undefined;
    if (value === "") return [];
    if (typeof value === "string") return [value];
    const items = toArray(value);
    if (items === undefined) throw invalidRequest(`Invalid array: ${this.name(key)}`, this.name(key));
    return items.filter((item): item is string => typeof item === "string");
  }

  /**
   * Metadata update semantics: `''` clears everything, `metadata[k]=''` removes one key.
   * Returns the merged metadata, or `current` when the parameter is absent.
   */
  metadata(key: string, current: Record<string, string>): Record<string, string> {
    const value = this.value(key);
    if (value === undefined) return current;
    if (value === "") return {};
    if (!isRecord(value)) throw invalidRequest(`Invalid hash: ${this.name(key)}`, this.name(key));
    const next: Record<string, string> = { ...current };
    for (const [k, v] of Object.entries(value)) {
      if (v === "" || v === undefined) {
        delete next[k];
      } else if (typeof v === "string") {
        next[k] = v;
      } else {
        throw invalidRequest(`Invalid metadata value for ${k}`, `${this.name(key)}[${k}]`);
      }
    }
    return next;
  }

  expand(): string[] {
    return this.strList("expand") ?? [];
  }
}
