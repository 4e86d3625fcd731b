import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { parseForm } from "../params.ts";
import { isRecord, type Raw } from "../spec.ts";

/** The Fastify app every route module registers on: raw bodies (each route parses its own), Stripe-style 404 and 500. */
export function createApp(log: (line: string) => void): FastifyInstance {
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    bodyLimit: 5 * 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true, querystringParser: (query: string) => parseForm(query) },
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error, request, reply) => {
    log(
      `unhandled error on ${request.method} ${request.url}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    const message = error instanceof Error ? error.message : String(error);
    return sendJson(
      reply,
      500,
      JSON.stringify({ error: { type: "api_error", message: `Stripe emulator internal error: ${message}` } }),
    );
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).header("content-type", "application/json; charset=utf-8");
    return reply.send(
      JSON.stringify({
        error: {
          type: "invalid_request_error",
          message: `Unrecognized request URL (${request.method}: ${request.url}).`,
        },
      }),
    );
  });
  return app;
}

export function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A form (or JSON) body's parameters; throws on malformed JSON. */
export function bodyParams(request: FastifyRequest): Raw {
  const body = request.body;
  if (typeof body !== "string" || body.trim() === "") return {};
  const type = header(request, "content-type") ?? "";
  if (type.includes("application/json")) {
    const parsed: unknown = JSON.parse(body);
    return isRecord(parsed) ? parsed : {};
  }
  return parseForm(body);
}

/** The body of an admin API call or a hosted page's form: `{}` when it cannot be parsed. */
export function lenientBody(request: FastifyRequest): Raw {
  try {
    return bodyParams(request);
  } catch {
    return {};
  }
}

export function sendJson(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).header("content-type", "application/json; charset=utf-8").send(text);
}
