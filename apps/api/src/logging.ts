// Structured JSON logs (pino) for the API and the worker: one line per event on stdout, ISO timestamps,
// the request id on every line of a request (`reqId`, from X-Request-Id or generated), secrets redacted.
import { hostname } from "node:os";
import type { FastifyRequest } from "fastify";
import { type LoggerOptions, stdTimeFunctions } from "pino";
import type { Config } from "./config.ts";

/** Paths pino replaces with "[redacted]" wherever they appear in a logged object. */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["stripe-signature"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  "headers.authorization",
  "headers.cookie",
  'headers["stripe-signature"]',
  "*.password",
  "*.secret",
  "*.token",
  "*.apiKey",
  "*.connectionString",
] as const;

/** Query parameters whose values never reach the logs (one-time tokens in links, say). */
const SECRET_QUERY_PARAMETERS = /^(token|code|key|secret|signature|password|api_key)$/i;

/** The URL as logged: the values of secret-looking query parameters replaced. */
export function redactUrl(url: string): string {
  const question = url.indexOf("?");
  if (question < 0) return url;
  const params = new URLSearchParams(url.slice(question + 1));
  let changed = false;
  for (const key of [...params.keys()]) {
    if (SECRET_QUERY_PARAMETERS.test(key)) {
      params.set(key, "[redacted]");
      changed = true;
    }
  }
  return changed ? `${url.slice(0, question)}?${params.toString()}` : url;
}

export function loggerOptions(
  config: Pick<Config, "logLevel">,
  service: "minutely-api" | "minutely-worker",
): LoggerOptions {
  return {
    level: config.logLevel,
    base: { service, pid: process.pid, hostname: hostname() },
    timestamp: stdTimeFunctions.isoTime,
    redact: { paths: [...REDACTED_PATHS], censor: "[redacted]" },
    serializers: {
      req: (req: FastifyRequest) => ({
        method: req.method,
        url: redactUrl(req.url),
        host: req.host,
        remoteAddress: req.ip,
        userAgent: req.headers["user-agent"],
      }),
    },
  };
}
