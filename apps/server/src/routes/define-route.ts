// One declaration per REST endpoint. Its zod schemas are the only description of the wire format: they
// validate the request (a 400 naming the field, see `parse`), type what the handler answers, give Fastify the
// JSON Schema its response serializer is compiled from (so an undeclared field is never sent), and are the
// OpenAPI document's request and response schemas (zod's JSON Schema output, tidied by `jsonSchemaOf`).
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchemaCompiler,
  RouteShorthandOptions,
} from "fastify";
import { z } from "zod";
import { parse, type RestError } from "../rest.ts";

type JsonSchema = Record<string, unknown>;

const JSON_SCHEMA_DIALECT_KEY = "$schema";

/** True for `{ type: "null" }` alone. */
function isNull(node: unknown): boolean {
  return (
    typeof node === "object" &&
    node !== null &&
    Object.keys(node).length === 1 &&
    (node as JsonSchema).type === "null"
  );
}

/**
 * zod's JSON Schema, written as a person would: `T | null` as `type: [T, "null"]` (an enum gains null), no
 * ±2^53 bounds on integers (every JSON integer is within them), no `propertyNames: { type: "string" }` (every
 * JSON key is a string). A request keeps the `pattern` zod checks beside a `format` (what is accepted, exactly);
 * a response drops it (the format says what is sent: `toISOString()`, a UUID).
 */
function tidy(node: unknown, io: "input" | "output"): unknown {
  if (Array.isArray(node)) return node.map((item) => tidy(item, io));
  if (typeof node !== "object" || node === null) return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === JSON_SCHEMA_DIALECT_KEY) continue;
    out[key] = key === "enum" || key === "examples" || key === "default" ? value : tidy(value, io);
  }
  if (io === "output" && typeof out.format === "string" && out.pattern !== undefined) delete out.pattern;
  if (out.type === "integer") {
    if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
    if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
  }
  const names = out.propertyNames as JsonSchema | undefined;
  if (names && Object.keys(names).length === 1 && names.type === "string") delete out.propertyNames;
  const anyOf = out.anyOf as JsonSchema[] | undefined;
  if (anyOf?.length === 2 && anyOf.some(isNull)) {
    const other = anyOf.find((branch) => !isNull(branch)) as JsonSchema;
    if (typeof other.type === "string" && other.anyOf === undefined) {
      const { anyOf: _, ...rest } = out;
      const merged: JsonSchema = { ...other, ...rest, type: [other.type, "null"] };
      if (Array.isArray(other.enum)) merged.enum = [...other.enum, null];
      return merged;
    }
  }
  return out;
}

/** The JSON Schema of a zod schema as the document shows it: the request's (input) or the answer's (output). */
export function jsonSchemaOf(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  return tidy(z.toJSONSchema(schema, { io, unrepresentable: "any" }), io) as JsonSchema;
}

/** A response with its own description (and headers) in the document, such as the error responses. */
export interface DocumentedResponse<S extends z.ZodType = z.ZodType> {
  description: string;
  headers?: Record<string, z.ZodType>;
  schema: S;
}

export type ResponseSpec = z.ZodType | DocumentedResponse;
type SchemaOf<R> = R extends DocumentedResponse<infer S> ? S : R extends z.ZodType ? R : never;
type SuccessStatus = 200 | 201 | 202;
/** What the handler may answer: the input of any documented 2xx response. */
type Answer<R> = { [K in keyof R]: K extends SuccessStatus ? z.input<SchemaOf<R[K]>> : never }[keyof R];

export function responseJsonSchema(spec: ResponseSpec): JsonSchema {
  if (spec instanceof z.ZodType) return jsonSchemaOf(spec, "output");
  const headers = spec.headers
    ? Object.fromEntries(Object.entries(spec.headers).map(([name, s]) => [name, jsonSchemaOf(s, "output")]))
    : undefined;
  return {
    description: spec.description,
    ...(headers ? { headers } : {}),
    ...jsonSchemaOf(spec.schema, "output"),
  };
}

export interface RouteDefinition<
  R extends Partial<Record<number, ResponseSpec>>,
  Viewer,
  B extends z.ZodType | undefined,
  P extends z.ZodType | undefined,
> {
  method: "GET" | "POST";
  url: string;
  tags: string[];
  summary: string;
  description?: string;
  security?: Record<string, string[]>[];
  /** The path parameters, checked before the body (a 400 about "path" naming the parameter). */
  params?: P;
  /** The JSON body: strict objects, so a field the route does not know is a 400 naming it. */
  body?: B;
  /**
   * The query parameters a GET route takes (a strict object of optional strings): absent, none is taken. An
   * unknown or invalid one is a 400 about "query" naming it, before credentials are looked at.
   */
  query?: z.ZodType<Record<string, unknown>>;
  response: R;
  bodyLimit?: number;
  config?: RouteShorthandOptions["config"];
  /** Runs before the path and the body are validated (a 401/403 comes before a 400, as it did). */
  authorize?: (req: FastifyRequest) => Promise<Viewer>;
  handler: (input: {
    req: FastifyRequest;
    reply: FastifyReply;
    viewer: Viewer;
    /** The query parameters as `query` parsed them (an empty object for a route without `query`). */
    query: Record<string, unknown>;
    params: P extends z.ZodType ? z.output<P> : undefined;
    body: B extends z.ZodType ? z.output<B> : undefined;
  }) => Promise<Answer<R>>;
}

/** A route without `query` takes no query parameters: any is a 400 naming it (checked before the handler runs). */
const ZNoQuerySchema = z.strictObject({});

/**
 * Fastify's validation step of these routes. Only the query string is judged there (as before: it is refused
 * before credentials are looked at); the body and the path are judged by zod in the handler, after
 * `authorize`. No ajv runs on a body, so whatever the server's ajv options are (Fastify's default coerces
 * "60" to 60 in place), the zod schemas see the JSON as sent.
 */
function validatorCompilerFor(query: z.ZodType): FastifySchemaCompiler<unknown> {
  return ({ httpPart }) => {
    if (httpPart !== "querystring") return () => true;
    return (value: unknown) => {
      try {
        return { value: parse(query, value ?? {}, "query") };
      } catch (error) {
        return { error: error as RestError };
      }
    };
  };
}

export function defineRoute<
  R extends Partial<Record<number, ResponseSpec>>,
  Viewer = undefined,
  B extends z.ZodType | undefined = undefined,
  P extends z.ZodType | undefined = undefined,
>(app: FastifyInstance, route: RouteDefinition<R, Viewer, B, P>): void {
  const response = Object.fromEntries(
    Object.entries(route.response).map(([status, spec]) => [
      status,
      responseJsonSchema(spec as ResponseSpec),
    ]),
  );
  app.route({
    method: route.method,
    url: route.url,
    ...(route.bodyLimit === undefined ? {} : { bodyLimit: route.bodyLimit }),
    ...(route.config === undefined ? {} : { config: route.config }),
    schema: {
      tags: route.tags,
      summary: route.summary,
      ...(route.description === undefined ? {} : { description: route.description }),
      ...(route.security === undefined ? {} : { security: route.security }),
      ...(route.params === undefined ? {} : { params: jsonSchemaOf(route.params, "input") }),
      querystring: jsonSchemaOf(route.query ?? ZNoQuerySchema, "input"),
      ...(route.body === undefined ? {} : { body: jsonSchemaOf(route.body, "input") }),
      response,
    },
    validatorCompiler: validatorCompilerFor(route.query ?? ZNoQuerySchema),
    handler: async (req, reply) => {
      const viewer = (route.authorize ? await route.authorize(req) : undefined) as Viewer;
      const params = route.params === undefined ? undefined : parse(route.params, req.params, "path");
      const body = route.body === undefined ? undefined : parse(route.body, req.body);
      return await route.handler({
        req,
        reply,
        viewer,
        query: (req.query ?? {}) as Record<string, unknown>,
        params: params as P extends z.ZodType ? z.output<P> : undefined,
        body: body as B extends z.ZodType ? z.output<B> : undefined,
      });
    },
  });
}
