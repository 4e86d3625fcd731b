import { ApiError, type StripeErrorBody } from "./errors.ts";

/** Request parameters as parsed from a form body, a query string or JSON. */
export type Raw = Record<string, unknown>;

export function isRecord(value: unknown): value is Raw {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * What an endpoint accepts, checked before its handler runs (as Stripe does): an unknown parameter, at any
 * depth, is refused with Stripe's `parameter_unknown`; enums, integers, booleans, timestamps and currencies
 * are checked for their format. Only `metadata` is free-form. Route specs live in `http/route-specs.ts`.
 */
export type Spec =
  | { kind: "string"; emptyable: boolean; maxLength?: number }
  | { kind: "enum"; values: readonly string[]; emptyable: boolean }
  | { kind: "integer"; min?: number; max?: number; emptyable: boolean }
  | { kind: "boolean"; emptyable: boolean }
  | { kind: "timestamp"; now: boolean; emptyable: boolean }
  | { kind: "currency"; emptyable: boolean }
  | { kind: "metadata"; emptyable: boolean }
  | { kind: "object"; fields: Record<string, Spec>; unsupported: readonly string[]; emptyable: boolean }
  | { kind: "array"; of: Spec; emptyable: boolean }
  /** A hash keyed by currency code (`currency_options[eur][unit_amount]`), each value checked by `of`. */
  | { kind: "currencyMap"; of: Spec; emptyable: boolean }
  /** `created=123` or `created[gte]=…` (list filters). */
  | { kind: "range"; emptyable: boolean };

export type ObjectSpec = Extract<Spec, { kind: "object" }>;

interface Opts {
  /** Stripe accepts `''` to unset it (`Stripe.Emptyable<…>` in the SDK's declarations). */
  emptyable?: boolean;
}

/** Strings cannot tell `Emptyable<string>` from `string` in the SDK's types, so `''` is accepted. */
export const str = (opts: Opts & { maxLength?: number } = {}): Spec => ({
  kind: "string",
  emptyable: opts.emptyable ?? true,
  ...(opts.maxLength !== undefined ? { maxLength: opts.maxLength } : {}),
});
export const int = (opts: Opts & { min?: number; max?: number } = {}): Spec => ({
  kind: "integer",
  emptyable: opts.emptyable ?? false,
  ...(opts.min !== undefined ? { min: opts.min } : {}),
  ...(opts.max !== undefined ? { max: opts.max } : {}),
});
export const bool = (opts: Opts = {}): Spec => ({ kind: "boolean", emptyable: opts.emptyable ?? false });
export const oneOf = (values: readonly string[], opts: Opts = {}): Spec => ({
  kind: "enum",
  values,
  emptyable: opts.emptyable ?? false,
});
/** A Unix timestamp; `now: true` also accepts the literal `now`. */
export const ts = (opts: Opts & { now?: boolean } = {}): Spec => ({
  kind: "timestamp",
  now: opts.now ?? false,
  emptyable: opts.emptyable ?? false,
});
export const currency = (opts: Opts = {}): Spec => ({ kind: "currency", emptyable: opts.emptyable ?? false });
export const metadata = (): Spec => ({ kind: "metadata", emptyable: true });
export const range = (): Spec => ({ kind: "range", emptyable: false });
export const arr = (of: Spec, opts: Opts = {}): Spec => ({
  kind: "array",
  of,
  emptyable: opts.emptyable ?? false,
});

/**
 * An object parameter. Typed with the SDK's params type (`obj<Stripe.CustomerCreateParams>({…})`), the
 * compiler refuses a field name Stripe does not have. `unsupported` lists fields Stripe has but the emulator
 * does not implement: they are refused too, with a message saying so.
 */
export function obj<T = Record<string, unknown>>(
  fields: { [K in keyof T]?: Spec },
  opts: Opts & { unsupported?: readonly (keyof T & string)[] } = {},
): ObjectSpec {
  return {
    kind: "object",
    fields: fields as Record<string, Spec>,
    unsupported: opts.unsupported ?? [],
    emptyable: opts.emptyable ?? false,
  };
}

export const currencyMap = (of: Spec, opts: Opts = {}): Spec => ({
  kind: "currencyMap",
  of,
  emptyable: opts.emptyable ?? false,
});

/** `expand[]`, accepted by every endpoint. */
export const expand = (): Spec => arr(str());
/** `limit`, `starting_after`, `ending_before` of list endpoints (and their `expand[]`). */
export const pagination = {
  limit: int({ min: 1, max: 100 }),
  starting_after: str(),
  ending_before: str(),
  expand: expand(),
};

type Fields<T> = { [K in keyof T]?: Spec };
type ObjOpts<T> = Opts & { unsupported?: readonly (keyof T & string)[] };
/** Compiles only when the SDK's params type `T` declares every key in `K` (optional keys included). */
type Declares<T, K extends string> = [K] extends [keyof T] ? unknown : never;

/** An endpoint's parameters: `expand[]` plus its own (`obj` with `expand` added). */
export function endpoint<T = Record<string, unknown>>(
  fields: Fields<T> & Declares<T, "expand">,
  opts: ObjOpts<T> = {},
): ObjectSpec {
  return obj<T>({ expand: expand(), ...fields }, opts);
}

/** A create or update endpoint of an object with metadata: `expand[]`, `metadata` plus its own. */
export function endpointWithMetadata<T = Record<string, unknown>>(
  fields: Fields<T> & Declares<T, "expand" | "metadata">,
  opts: ObjOpts<T> = {},
): ObjectSpec {
  return obj<T>({ expand: expand(), metadata: metadata(), ...fields }, opts);
}

/** A list endpoint: `limit`, `starting_after`, `ending_before`, `expand[]` plus its filters. */
export function list<T = Record<string, unknown>>(
  filters: Fields<T> & Declares<T, "limit" | "starting_after" | "ending_before" | "expand">,
  opts: ObjOpts<T> = {},
): ObjectSpec {
  return obj<T>({ ...pagination, ...filters }, opts);
}

/** ISO 4217 codes (lower case) that Stripe accepts as a `currency`. */
export const CURRENCIES: readonly string[] = (
  "usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd bwp byn bzd cad " +
  "cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf gtq gyd hkd hnl " +
  "htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw kwd kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd " +
  "mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd " +
  "rub rwf sar sbd scr sek sgd shp sle sos srd std szl thb tjs tnd top try ttd twd tzs uah ugx uyu uzs vnd " +
  "vuv wst xaf xcd xof xpf yer zar zmw"
).split(" ");
const CURRENCY_SET = new Set(CURRENCIES);

function docUrl(code: string): string {
  return `https://stripe.com/docs/error-codes/${code.replaceAll("_", "-")}`;
}

/** A 400 raised before the handler runs: Stripe saves no idempotent result for it. */
export function validationError(message: string, param?: string, code?: string): ApiError {
  const body: StripeErrorBody = { type: "invalid_request_error", message };
  if (code !== undefined) {
    body.code = code;
    body.doc_url = docUrl(code);
  }
  if (param !== undefined) body.param = param;
  const error = new ApiError(400, body);
  error.validation = true;
  return error;
}

/** "a, b, or c", as Stripe lists allowed values. */
function listValues(values: readonly string[]): string {
  if (values.length <= 1) return values.join("");
  if (values.length === 2) return `${values[0]} or ${values[1]}`;
  return `${values.slice(0, -1).join(", ")}, or ${values[values.length - 1]}`;
}

/** qs makes `a[0]=x` an array, but sparse or huge indexes an object with numeric keys: both are arrays. */
function asArray(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (isRecord(value) && Object.keys(value).every((k) => /^\d+$/.test(k))) {
    return Object.keys(value)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => value[k]);
  }
  return undefined;
}

const INTEGER = /^-?\d+$/;

function checkInteger(value: unknown, name: string, min?: number, max?: number): void {
  if (typeof value !== "string" || !INTEGER.test(value)) {
    throw validationError(
      `Invalid integer: ${typeof value === "string" ? value : JSON.stringify(value)}`,
      name,
      "parameter_invalid_integer",
    );
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n)) {
    throw validationError(`Invalid integer: ${value}`, name, "parameter_invalid_integer");
  }
  if (min !== undefined && n < min) {
    throw validationError(`This value must be greater than or equal to ${min}.`, name);
  }
  if (max !== undefined && n > max) {
    throw validationError(`This value must be less than or equal to ${max}.`, name);
  }
}

function checkValue(spec: Spec, value: unknown, name: string): void {
  if (value === "") {
    if (spec.emptyable) return;
    throw validationError(
      `You passed an empty string for '${name}'. We assume empty values are an attempt to unset a parameter; however '${name}' cannot be unset. You should remove '${name}' from your request or supply a non-empty value.`,
      name,
      "parameter_invalid_empty",
    );
  }
  switch (spec.kind) {
    case "string":
      if (typeof value !== "string") throw validationError(`Invalid string: ${name}`, name);
      if (spec.maxLength !== undefined && value.length > spec.maxLength) {
        throw validationError(
          `Invalid string: ${value.slice(0, 20)}...; must be at most ${spec.maxLength} characters`,
          name,
        );
      }
      return;
    case "enum":
      if (typeof value !== "string" || !spec.values.includes(value)) {
        throw validationError(`Invalid ${name}: must be one of ${listValues(spec.values)}`, name);
      }
      return;
    case "integer":
      checkInteger(value, name, spec.min, spec.max);
      return;
    case "timestamp":
      if (spec.now && value === "now") return;
      checkInteger(value, name, 0);
      return;
    case "boolean":
      if (value !== "true" && value !== "false") {
        throw validationError(
          `Invalid boolean: ${typeof value === "string" ? value : JSON.stringify(value)}`,
          name,
        );
      }
      return;
    case "currency":
      if (typeof value !== "string" || !CURRENCY_SET.has(value.toLowerCase())) {
        throw validationError(
          `Invalid currency: ${typeof value === "string" ? value : JSON.stringify(value)}. Stripe currently supports these currencies: ${CURRENCIES.join(", ")}`,
          name,
        );
      }
      return;
    case "metadata":
      if (!isRecord(value)) throw validationError(`Invalid hash: ${name}`, name);
      for (const [key, entry] of Object.entries(value)) {
        if (typeof entry !== "string") {
          throw validationError(`Invalid metadata value for ${key}`, `${name}[${key}]`);
        }
      }
      return;
    case "range":
      if (isRecord(value)) {
        checkObject(obj({ gt: int(), gte: int(), lt: int(), lte: int() }), value, name);
        return;
      }
      checkInteger(value, name);
      return;
    case "array": {
      const items = asArray(value);
      if (items === undefined) throw validationError(`Invalid array: ${name}`, name);
      items.forEach((item, index) => {
        checkValue(spec.of, item, `${name}[${index}]`);
      });
      return;
    }
    case "object":
      if (!isRecord(value)) throw validationError(`Invalid object: ${name}`, name);
      checkObject(spec, value, name);
      return;
    case "currencyMap":
      if (!isRecord(value)) throw validationError(`Invalid hash: ${name}`, name);
      for (const [key, entry] of Object.entries(value)) {
        checkValue({ kind: "currency", emptyable: false }, key, `${name}[${key}]`);
        checkValue(spec.of, entry, `${name}[${key}]`);
      }
      return;
  }
}

function checkObject(spec: ObjectSpec, raw: Raw, prefix: string): void {
  for (const [key, value] of Object.entries(raw)) {
    const name = prefix ? `${prefix}[${key}]` : key;
    const field = Object.hasOwn(spec.fields, key) ? spec.fields[key] : undefined;
    if (field === undefined) {
      if (spec.unsupported.includes(key)) {
        throw validationError(
          `Received unsupported parameter: ${name}. Stripe accepts it, but the Stripe emulator does not implement it (see apps/stripe-emulator/README.md).`,
          name,
        );
      }
      throw validationError(`Received unknown parameter: ${name}`, name, "parameter_unknown");
    }
    if (value === undefined) continue;
    checkValue(field, value, name);
  }
}

/** Checks the parsed form of a request against its endpoint's spec; throws Stripe's 400 on the first fault. */
export function validateParams(spec: ObjectSpec, raw: Raw): void {
  checkObject(spec, raw, "");
}

/** The spec of a field inside an object spec, for the read check in `Params`. */
export function fieldSpec(spec: ObjectSpec, key: string): Spec | undefined {
  return Object.hasOwn(spec.fields, key) ? spec.fields[key] : undefined;
}
