// Shared plumbing for the REST routes: one error shape, zod validation that names the field, and the
// mapping of the services' AppError to HTTP statuses (done once, in the error handler).
import { AppError, DATABASE_UNAVAILABLE, httpStatusOf, UpstreamUnavailableError } from "@minutely/api";
import { isDatabaseUnavailable } from "@minutely/db";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ZodError, type z } from "zod";
import { lingerOnClose } from "./lingering-close.ts";
import { responseJsonSchema } from "./routes/define-route.ts";
import { errorResponses } from "./routes/openapi-schemas.ts";

/** The body of every REST error: a machine-readable code, a sentence for people, and per-field messages. */
export interface RestErrorBody {
  error: string;
  message: string;
  fields?: Record<string, string>;
}

export class RestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: RestErrorBody,
  ) {
    super(body.message);
  }
}

function fieldsOf(error: ZodError, part = "body"): Record<string, string> {
  // No prototype: a field called "toString" or "constructor" is named like any other.
  const fields: Record<string, string> = Object.create(null);
  const unknown = `is not a ${part === "query" ? "parameter" : "field"} of this request`;
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      // A strict object names each field it does not know, not the object holding it.
      for (const name of issue.keys) fields[[...issue.path, name].map(String).join(".")] ??= unknown;
      continue;
    }
    const key = issue.path.map(String).join(".") || "body";
    fields[key] ??= issue.message;
  }
  return fields;
}

/** Validates a request part; a 400 naming every wrong field otherwise. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, part = "body"): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = fieldsOf(result.error, part);
  const [first] = Object.entries(fields);
  throw new RestError(400, {
    error: "validation_error",
    message: first ? `Invalid ${part}: ${first[0]} ${first[1]}` : `Invalid ${part}`,
    fields,
  });
}

/** Fastify's own client errors under codes that say what is wrong (not Fastify's internal names). */
const FASTIFY_ERROR_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "invalid_json",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_json",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "bad_request",
  FST_ERR_CTP_EMPTY_TYPE: "unsupported_media_type",
};

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`;
}

/** Arrays and objects nested deeper than this are refused: no request needs it, and recursive code
 * (JSON.stringify, validators, loggers) overflows the stack on the 100,000 levels a 1 MiB body can hold. */
export const MAX_JSON_DEPTH = 32;

/** The UTF-16 code unit of a `\\uXXXX` escape starting at `at` (the backslash), or -1. */
function escapedUnit(text: string, at: number): number {
  if (text.charCodeAt(at) !== 0x5c || text.charCodeAt(at + 1) !== 0x75) return -1;
  const hex = text.slice(at + 2, at + 6);
  return /^[0-9a-fA-F]{4}$/.test(hex) ? Number.parseInt(hex, 16) : -1;
}

/**
 * What a JSON text holds that no input may, found in one pass without parsing: nesting deeper than
 * MAX_JSON_DEPTH, a NUL character (the escape \u0000), which PostgreSQL cannot store in text or jsonb
 * (inserting one fails the query), or half of a surrogate pair (an escape \ud800-\udfff without its other
 * half), which is no Unicode text: jsonb refuses it and text would silently turn it into U+FFFD. Null when
 * the text has none of them.
 */
export function jsonTextProblem(text: string): string | null {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) {
        const unit = escapedUnit(text, i);
        if (unit === 0) return "contains a NUL character (\\u0000), which text cannot hold";
        if (unit >= 0xd800 && unit <= 0xdbff) {
          const low = escapedUnit(text, i + 6);
          if (low < 0xdc00 || low > 0xdfff)
            return "contains an unpaired surrogate escape (\\ud800-\\udfff), which is not Unicode text";
          i += 11; // both escapes
          continue;
        }
        if (unit >= 0xdc00 && unit <= 0xdfff)
          return "contains an unpaired surrogate escape (\\ud800-\\udfff), which is not Unicode text";
        i++; // the escaped character
      } else if (c === 0x22) {
        inString = false;
      }
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > MAX_JSON_DEPTH) return `nests deeper than ${MAX_JSON_DEPTH} levels`;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return null;
}

/** PostgreSQL's numeric, which jsonb stores every JSON number as: the highest power of ten of a leading
 * digit (131,072 digits before the point), the most digits after the point as written (trailing zeros
 * count), and the exponent's magnitude it refuses before anything else (INT_MAX / 2). */
const NUMERIC_MAX_POWER = 131_071;
const NUMERIC_MAX_SCALE = 16_383;
const NUMERIC_MAX_EXPONENT = 1_073_741_823;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * The first number of a JSON text (already known to be valid JSON) that PostgreSQL's jsonb cannot store
 * (`1e200000`, `1e-20000`, 140,000 digits: "value overflows numeric format"), described, or null. For
 * bodies stored as they were sent (Stripe's events): JSON.parse takes such a number (as Infinity or 0),
 * the insert would not.
 */
export function jsonNumberProblem(text: string): string | null {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    if (c !== 0x2d && !isDigit(c)) continue;
    // One pass over the number, allocating nothing (this runs on up to 1 MiB of a signed webhook body).
    const start = i;
    if (c === 0x2d) i++;
    let leading = -1; // index of the first digit other than 0
    while (isDigit(text.charCodeAt(i))) {
      if (leading < 0 && text.charCodeAt(i) !== 0x30) leading = i;
      i++;
    }
    const intEnd = i;
    let fracDigits = 0;
    if (text.charCodeAt(i) === 0x2e) {
      i++;
      while (isDigit(text.charCodeAt(i))) {
        if (leading < 0 && text.charCodeAt(i) !== 0x30) leading = i;
        fracDigits++;
        i++;
      }
    }
    let exponent = 0;
    if (text.charCodeAt(i) === 0x65 || text.charCodeAt(i) === 0x45) {
      i++;
      const negative = text.charCodeAt(i) === 0x2d;
      if (negative || text.charCodeAt(i) === 0x2b) i++;
      let magnitude = 0;
      while (isDigit(text.charCodeAt(i))) {
        // Past NUMERIC_MAX_EXPONENT it only matters that it is: stop counting before precision is lost.
        if (magnitude < NUMERIC_MAX_EXPONENT) magnitude = magnitude * 10 + (text.charCodeAt(i) - 0x30);
        i++;
      }
      exponent = negative ? -magnitude : magnitude;
    }
    // The power of ten of the leading digit (1 in 10.5 is 10^1, in 0.05 is 10^-2); zero has none.
    const power =
      leading < 0
        ? Number.NEGATIVE_INFINITY
        : leading < intEnd
          ? intEnd - 1 - leading + exponent
          : exponent - (leading - intEnd);
    const tooLarge = exponent >= NUMERIC_MAX_EXPONENT || power > NUMERIC_MAX_POWER;
    if (tooLarge || fracDigits - exponent > NUMERIC_MAX_SCALE) {
      const number = text.slice(start, Math.min(i, start + 24)) + (i - start > 24 ? "…" : "");
      return tooLarge
        ? `holds a number too large for PostgreSQL to store (${number}: more than 131,072 digits before the decimal point)`
        : `holds a number with more digits after the decimal point than PostgreSQL stores (${number}: more than 16,383)`;
    }
    i--; // the character after the number is looked at by the next turn
  }
  return null;
}

/** Fastify's JSON parser (prototype poisoning refused) behind jsonTextProblem. */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The bytes as UTF-8 text, or null when they are not (never an invalid byte turned into U+FFFD). */
export function utf8Text(bytes: Uint8Array): string | null {
  try {
    return UTF8.decode(bytes);
  } catch {
    return null;
  }
}

export function registerJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (req, body, done) => {
    // JSON is UTF-8 (RFC 8259). Decoding leniently would turn every invalid byte into U+FFFD, so two
    // different ids ("a\xff", "a\xfe") would arrive as one: refuse the body instead.
    let text: string;
    try {
      text = typeof body === "string" ? body : UTF8.decode(body);
    } catch {
      done(
        new RestError(400, { error: "invalid_body", message: "The JSON body is not valid UTF-8 text." }),
        undefined,
      );
      return;
    }
    const problem = jsonTextProblem(text);
    if (problem) {
      done(new RestError(400, { error: "invalid_body", message: `The JSON body ${problem}.` }), undefined);
      return;
    }
    parseJson(req, text, done);
  });
}

type JsonSchemaNode = {
  type?: unknown;
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: unknown;
  items?: JsonSchemaNode | JsonSchemaNode[];
  anyOf?: JsonSchemaNode[];
  oneOf?: JsonSchemaNode[];
  allOf?: JsonSchemaNode[];
};

/** Marks every object of a body schema that lists its properties, and says nothing else, as closed. */
function closeObjects(schema: JsonSchemaNode | undefined): void {
  if (!schema || typeof schema !== "object") return;
  if (schema.properties && schema.additionalProperties === undefined) schema.additionalProperties = false;
  for (const child of Object.values(schema.properties ?? {})) closeObjects(child);
  for (const child of [
    schema.items ?? [],
    schema.anyOf ?? [],
    schema.oneOf ?? [],
    schema.allOf ?? [],
  ].flat()) {
    closeObjects(child);
  }
}

interface AjvIssue {
  keyword: string;
  instancePath: string;
  params: { additionalProperty?: string };
}

type AjvError = Error & { validation?: AjvIssue[]; validationContext?: string };

/** An unknown body field or query parameter among ajv's errors, as a 400 naming it; null if none. */
function unknownInputError(error: AjvError | undefined): RestError | null {
  const part = error?.validationContext;
  if (part !== "body" && part !== "querystring") return null;
  const unknown = error?.validation?.find((issue) => issue.keyword === "additionalProperties");
  if (!unknown) return null;
  const path = [
    ...unknown.instancePath.split("/").filter(Boolean),
    unknown.params.additionalProperty ?? "",
  ].join(".");
  const [noun, what] = part === "body" ? ["body", "field"] : ["query", "parameter"];
  return new RestError(400, {
    error: "validation_error",
    message: `Invalid ${noun}: ${path} is not a ${what} of this request`,
    fields: { [path]: `is not a ${what} of this request` },
  });
}

/**
 * Every REST route refuses input it does not declare, with a 400 naming it (`events.0.colour`,
 * `account_id`), instead of ignoring it: a misspelt optional field (`prorationDate` for `proration_date`)
 * would otherwise be dropped and the request carried out without it. When a route is added, its body
 * schema's objects are closed, and a documented route (one with OpenAPI tags) that declares no query
 * parameters gets a query schema allowing none (both also in the OpenAPI document). Routes that validate
 * with zod (`attachValidation`) get wrong types and values reported by zod, so only ajv's unknown-input
 * errors are answered here; on other routes Fastify's validation error reaches the error handler.
 */
export function registerStrictBodies(app: FastifyInstance): void {
  app.addHook("onRoute", (route) => {
    const schema = route.schema as
      | { body?: JsonSchemaNode; querystring?: unknown; tags?: unknown; hide?: boolean }
      | undefined;
    closeObjects(schema?.body);
    if (schema?.tags && !schema.hide && schema.querystring === undefined) {
      schema.querystring = { type: "object", properties: {}, additionalProperties: false };
    }
  });
  app.addHook("preHandler", async (req) => {
    const refused = unknownInputError(req.validationError as AjvError | undefined);
    if (refused) throw refused;
  });
}

/**
 * What every documented route can answer whatever its own responses, added in one place instead of route by
 * route: `503` with `Retry-After` (the database is down or its circuit open, Stripe is unavailable: the error
 * handler answers it for any route), `400` (every route refuses unknown query parameters and malformed
 * paths), and for routes with a body `413` (over its limit) and `415` (not JSON).
 */
const COMMON_RESPONSES = {
  400: responseJsonSchema(errorResponses[400]),
  503: responseJsonSchema(errorResponses[503]),
};
const BODY_RESPONSES = {
  413: responseJsonSchema(errorResponses[413]),
  415: responseJsonSchema(errorResponses[415]),
};

export function registerUnavailableResponse(app: FastifyInstance): void {
  app.addHook("onRoute", (route) => {
    const schema = route.schema as
      | { tags?: unknown; hide?: boolean; body?: unknown; response?: Record<string | number, unknown> }
      | undefined;
    if (!schema?.tags || schema.hide) return;
    schema.response ??= {};
    const methods = [route.method].flat();
    const takesBody =
      schema.body !== undefined || methods.some((m) => m === "POST" || m === "PUT" || m === "PATCH");
    for (const [status, response] of Object.entries({
      ...COMMON_RESPONSES,
      ...(takesBody ? BODY_RESPONSES : {}),
    })) {
      if (schema.response[status] === undefined) schema.response[status] = response;
    }
  });
}

/**
 * Errors Fastify's router raises before any route or hook (Fastify's `frameworkErrors`): malformed
 * percent-escapes and over-long path parameters, answered in the REST error shape.
 */
export function frameworkErrorHandler(error: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  const path = (req.url.split("?")[0] ?? "").slice(0, 120);
  if (error.code === "FST_ERR_BAD_URL") {
    return reply
      .code(400)
      .send({ error: "bad_url", message: `The URL ${path} is not valid: check its percent-escapes (%XX).` });
  }
  if (error.code === "FST_ERR_MAX_PARAM_LENGTH") {
    return reply.code(414).send({ error: "uri_too_long", message: "A path segment of the URL is too long." });
  }
  req.log.error({ err: error }, "request failed before routing");
  return reply.code(500).send({ error: "internal_error", message: "Something went wrong on our side." });
}

/** `packageId` -> `package_id`; names already in snake_case are unchanged. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, req, reply) => {
    if (error instanceof RestError) return reply.code(error.statusCode).send(error.body);
    if (error instanceof AppError) {
      const body: RestErrorBody = { error: error.code.toLowerCase(), message: error.message };
      // The services name fields as tRPC inputs do (packageId); the REST API's bodies are snake_case.
      if (error.field) body.fields = { [snakeCase(error.field)]: error.message };
      if (error instanceof UpstreamUnavailableError) {
        // Stripe is failing: worth an operator's attention, and the client is told when to retry.
        req.log.warn({ err: error.cause ?? error }, "request failed: Stripe is unavailable");
        reply.header("retry-after", String(error.retryAfterSeconds));
      }
      return reply.code(httpStatusOf(error.code)).send(body);
    }
    const unknownInput = unknownInputError(error as AjvError);
    if (unknownInput) return reply.code(400).send(unknownInput.body);
    if (error instanceof ZodError) {
      return reply
        .code(400)
        .send({ error: "validation_error", message: "Invalid request", fields: fieldsOf(error) });
    }
    // PostgreSQL is restarting or unreachable: not the caller's fault, and a retry will work (503, not 500).
    if (isDatabaseUnavailable(error)) {
      req.log.warn({ err: error }, "request failed: the database is unavailable");
      reply.header("retry-after", String(DATABASE_UNAVAILABLE.retryAfterSeconds));
      return reply.code(503).send(DATABASE_UNAVAILABLE.body);
    }
    const status = "statusCode" in error && typeof error.statusCode === "number" ? error.statusCode : 500;
    if (status >= 400 && status < 500) {
      const code = "code" in error && typeof error.code === "string" ? error.code : "";
      if (status === 413) {
        // Fastify has already asked for the connection to close, so the rest of the upload is not parsed;
        // the close lingers, so that the client reads this answer rather than a connection reset.
        lingerOnClose(req.raw.socket);
        const limit = req.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit ?? 0;
        return reply.code(413).send({
          error: "payload_too_large",
          message: `The request body is larger than the ${limit} bytes (${formatBytes(limit)}) this endpoint accepts.`,
        });
      }
      return reply.code(status).send({
        error: FASTIFY_ERROR_CODES[code] ?? (code.toLowerCase() || "bad_request"),
        message: error.message,
      });
    }
    req.log.error({ err: error }, "request failed");
    return reply.code(500).send({ error: "internal_error", message: "Something went wrong on our side." });
  });
}
