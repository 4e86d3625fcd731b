// Shared plumbing for the REST routes: one error shape, zod validation that names the field, and the
// mapping of the services' AppError to HTTP statuses (done once, in the error handler).
import { AppError, httpStatusOf } from "@minutely/api";
import type { FastifyError, FastifyInstance } from "fastify";
import { ZodError, type z } from "zod";

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

function fieldsOf(error: ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.map(String).join(".") || "body";
    fields[key] ??= issue.message;
  }
  return fields;
}

/** Validates a request part; a 400 naming every wrong field otherwise. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, part = "body"): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = fieldsOf(result.error);
  const [first] = Object.entries(fields);
  throw new RestError(400, {
    error: "validation_error",
    message: first ? `Invalid ${part}: ${first[0]} ${first[1]}` : `Invalid ${part}`,
    fields,
  });
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, req, reply) => {
    if (error instanceof RestError) return reply.code(error.statusCode).send(error.body);
    if (error instanceof AppError) {
      const body: RestErrorBody = { error: error.code.toLowerCase(), message: error.message };
      if (error.field) body.fields = { [error.field]: error.message };
      return reply.code(httpStatusOf(error.code)).send(body);
    }
    if (error instanceof ZodError) {
      return reply
        .code(400)
        .send({ error: "validation_error", message: "Invalid request", fields: fieldsOf(error) });
    }
    const status = "statusCode" in error && typeof error.statusCode === "number" ? error.statusCode : 500;
    if (status >= 400 && status < 500) {
      const code =
        "code" in error && typeof error.code === "string" ? error.code.toLowerCase() : "bad_request";
      return reply.code(status).send({ error: code, message: error.message });
    }
    req.log.error({ err: error }, "request failed");
    return reply.code(500).send({ error: "internal_error", message: "Something went wrong on our side." });
  });
}
