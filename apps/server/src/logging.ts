// Structured JSON logs (pino) for the API and the worker: one line per event on stdout, ISO timestamps,
// the request id on every line of a request (`reqId`, from X-Request-Id or generated), secrets redacted.
// In development (LOG_FORMAT=pretty, the default under `pnpm dev`) the same logger writes short coloured
// lines through pino-pretty instead: one line per request, health checks and metrics scrapes left out.
import { hostname } from "node:os";
import { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, LogController } from "fastify";
import { type LoggerOptions, pino, stdTimeFunctions } from "pino";
import pretty from "pino-pretty";
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

/** Fastify's logger settings: JSON options, or (pretty) a pino instance writing through pino-pretty. */
export function fastifyLogging(
  config: Pick<Config, "logLevel" | "logFormat">,
  service: "minutely-api" | "minutely-worker",
  destination?: NodeJS.WritableStream,
): { logger: LoggerOptions } | { loggerInstance: FastifyBaseLogger; logController: LogController } {
  const options = loggerOptions(config, service);
  if (config.logFormat === "json") return { logger: options };
  const stream = pretty({
    colorize: !("NO_COLOR" in process.env),
    translateTime: "SYS:HH:MM:ss",
    ignore: "pid,hostname,service,reqId,req,res,responseTime",
    singleLine: true,
    ...(destination ? { destination } : {}),
  });
  // Fastify's two lines per request (incoming, completed) give way to the one line of registerShortRequestLog.
  return {
    loggerInstance: pino(options, stream),
    logController: new LogController({ disableRequestLogging: true }),
  };
}

/** Paths too frequent to be worth a line in development: health probes and metrics scrapes. */
const QUIET_PATHS = /^\/(health|metrics)(\/|$|\?)/;

/**
 * The URL as the short line shows it: a tRPC call by its procedures (`/trpc/auth.me,dashboard.get`), its
 * URL-encoded input left out; anything else redacted and cut at 120 characters.
 */
export function shortUrl(url: string): string {
  const [path = "", query = ""] = url.split("?", 2);
  if (/^\/trpc(\/admin)?\//.test(path)) return path;
  const shown = redactUrl(query ? `${path}?${query}` : path);
  return shown.length > 120 ? `${shown.slice(0, 117)}...` : shown;
}

/** The pretty format's request line: `GET /trpc/dashboard.get 200 12 ms`, one per answered request. */
export function registerShortRequestLog(app: FastifyInstance, config: Pick<Config, "logFormat">): void {
  if (config.logFormat !== "pretty") return;
  app.addHook("onResponse", async (req, reply) => {
    if (QUIET_PATHS.test(req.url)) return;
    const status = reply.statusCode;
    const line = `${req.method} ${shortUrl(req.url)} ${status} ${Math.round(reply.elapsedTime)} ms`;
    if (status >= 500) req.log.error(line);
    else if (status >= 400) req.log.warn(line);
    else req.log.info(line);
  });
}
