import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { processRealTime } from "../billing/clock.ts";
import { ApiError, authenticationError, idempotencyError } from "../errors.ts";
import { applyExpand } from "../expand.ts";
import { newId } from "../ids.ts";
import { createResolver } from "../objects/index.ts";
import { Params } from "../params.ts";
import { registerAll } from "../resources/index.ts";
import { isRecord, type Raw, validateParams, validationError } from "../spec.ts";
import { API_VERSION, API_VERSION_FORMAT, SUPPORTED_API_VERSIONS } from "../version.ts";
import { bodyParams, header, sendJson } from "./app.ts";
import type { EmulatorContext } from "./context.ts";
import type { FaultRule } from "./faults.ts";
import { IdempotencyStore } from "./idempotency.ts";
import { Router } from "./router.ts";

/** Stripe's limit on `Idempotency-Key`. */
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * The `Stripe-Version` header: absent means the account's version (the SDK's pinned one here); a version
 * the emulator does not speak is refused, naming the one it does; a malformed one gets Stripe's answer.
 */
function checkApiVersion(requested: string | undefined): void {
  if (requested === undefined || SUPPORTED_API_VERSIONS.includes(requested)) return;
  if (!API_VERSION_FORMAT.test(requested)) {
    throw new ApiError(400, {
      type: "invalid_request_error",
      message: `Invalid Stripe API version: ${requested}`,
    });
  }
  throw new ApiError(400, {
    type: "invalid_request_error",
    message: `The Stripe emulator speaks only API version ${SUPPORTED_API_VERSIONS.join(", ")} (the one the installed stripe SDK pins); this request asked for ${requested} in its Stripe-Version header. Use the SDK's default apiVersion with the emulator.`,
  });
}

function checkIdempotencyKey(key: string | undefined): void {
  if (key === undefined) return;
  if (key.length < 1 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new ApiError(400, {
      type: "invalid_request_error",
      message: `Idempotent key length is ${key.length}, which is outside accepted lengths. Idempotent Keys must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters long. If you're looking for a decent generator, try using a UUID defined by IETF RFC 4122.`,
    });
  }
}

/** Stripe's authentication: `Authorization: Bearer sk_test_...` (or basic auth with the key as user). */
function apiKey(request: FastifyRequest): string {
  const auth = header(request, "authorization");
  if (!auth) {
    throw authenticationError(
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
    );
  }
  let key = "";
  if (auth.startsWith("Bearer ")) key = auth.slice(7).trim();
  else if (auth.startsWith("Basic "))
    key = Buffer.from(auth.slice(6), "base64").toString("utf8").split(":")[0] ?? "";
  if (!/^(sk|rk)_test_\S+$/.test(key)) {
    const masked =
      key.length > 8
        ? `${key.slice(0, 8)}${"*".repeat(Math.max(0, Math.min(20, key.length - 12)))}${key.slice(-4)}`
        : key;
    throw authenticationError(
      `Invalid API Key provided: ${masked}. The Stripe emulator only accepts test mode keys (sk_test_...).`,
    );
  }
  return key;
}

function faultBody(rule: FaultRule): { error: Record<string, string> } {
  if (rule.status === 429) {
    return {
      error: {
        type: "invalid_request_error",
        code: "rate_limit",
        message: "Too many requests hit the API too quickly (injected by the Stripe emulator).",
      },
    };
  }
  if (rule.status >= 500) {
    return {
      error: { type: "api_error", message: "An unknown error occurred (injected by the Stripe emulator)." },
    };
  }
  return { error: { type: "invalid_request_error", message: "Injected fault (Stripe emulator)." } };
}

/**
 * The Stripe API, `/v1/*`: authentication, `Stripe-Version`, injected faults, idempotency, the parameter
 * check of the route's spec, then the resource route (`resources/`) inside a transaction with `expand[]`,
 * and Stripe's error envelope with `request_log_url`.
 */
export function registerApi(
  app: FastifyInstance,
  ctx: EmulatorContext,
  options: { checkParamReads: boolean },
): void {
  const { core, faults, idempotency, requestLog, hangingTimers, log } = ctx;
  const { checkParamReads } = options;
  const router = new Router();
  registerAll(router);
  const resolver = createResolver(core);

  /** Adds Stripe's `request_log_url` to an error body; here it opens the emulator's log of that request. */
  const withRequestLog = (body: unknown, requestId: string): unknown => {
    if (!isRecord(body) || !isRecord(body.error)) return body;
    return {
      error: {
        ...body.error,
        request_log_url: `${core.baseUrl}/_emulator/logs/${requestId}?t=${core.realNow()}`,
      },
    };
  };

  const remember = (
    id: string,
    method: string,
    path: string,
    status: number,
    params: Raw,
    response: unknown,
  ) => {
    requestLog.remember({ id, method, path, status, created: core.realNow(), params, response });
  };

  const applyFault = (
    rule: FaultRule,
    request: FastifyRequest,
    reply: FastifyReply,
  ): FastifyReply | undefined => {
    log(`fault injected: ${rule.kind} ${request.method} ${request.url}`);
    if (rule.kind === "reset") {
      reply.hijack();
      request.raw.socket.destroy();
      return undefined;
    }
    if (rule.kind === "timeout") {
      reply.hijack();
      const timer = setTimeout(() => {
        hangingTimers.delete(timer);
        request.raw.socket.destroy();
      }, rule.timeoutMs);
      hangingTimers.add(timer);
      return undefined;
    }
    return sendJson(reply, rule.status, JSON.stringify(faultBody(rule), null, 2));
  };

  app.route({
    method: ["GET", "POST", "DELETE"],
    url: "/v1/*",
    handler: async (request, reply) => {
      const requestId = newId("req", 14);
      reply.header("request-id", requestId);
      reply.header("stripe-version", API_VERSION);
      reply.header("x-stripe-emulator", "true");
      reply.header("access-control-allow-origin", "*");
      const method = request.method;
      const path = request.url.split("?")[0] ?? "/";
      /** Stripe's error envelope plus `request_log_url`; failed requests are kept for that URL. */
      const sendError = (error: ApiError, params: Raw): FastifyReply => {
        const body = withRequestLog(error.toJSON(), requestId);
        remember(requestId, method, path, error.status, params, body);
        return sendJson(reply, error.status, JSON.stringify(body, null, 2));
      };
      let key: string;
      const idemKey = method === "POST" ? header(request, "idempotency-key") : undefined;
      try {
        key = apiKey(request);
        checkApiVersion(header(request, "stripe-version"));
        checkIdempotencyKey(idemKey);
      } catch (error) {
        if (error instanceof ApiError) return sendError(error, {});
        throw error;
      }
      const before = faults.take(method, path, "before");
      if (before) return applyFault(before, request, reply);

      let raw: Raw;
      try {
        raw =
          method === "POST" ? { ...(request.query as Raw), ...bodyParams(request) } : (request.query as Raw);
      } catch {
        return sendError(validationError("Invalid request body."), {});
      }
      const fingerprint = IdempotencyStore.fingerprint(raw);
      if (idemKey) {
        const found = idempotency.lookup(key, idemKey, method, path, fingerprint, Date.now());
        if (found.kind === "replay") {
          // A replay is an answer like any other: a rule losing answers loses it too, so a rule's `count`
          // can outlast the client's idempotent retries (otherwise the first retry always got through).
          const lost = faults.take(method, path, "after");
          if (lost) return applyFault(lost, request, reply);
          reply.header("idempotent-replayed", "true");
          reply.header("idempotency-key", idemKey);
          return sendJson(reply, found.saved.status, found.saved.body);
        }
        if (found.kind === "mismatch") return sendError(idempotencyError(idemKey), raw);
        reply.header("idempotency-key", idemKey);
      }

      let status = 200;
      let body: unknown;
      /** Failed validation: Stripe saves no idempotent result, so a corrected retry with the key works. */
      let validationFailed = false;
      const match = router.match(method, path);
      if (!match) {
        status = 404;
        body = {
          error: {
            type: "invalid_request_error",
            message: `Unrecognized request URL (${method}: ${path}). The Stripe emulator does not implement this endpoint; see apps/stripe-emulator/README.md.`,
          },
        };
      } else {
        core.request = { id: requestId, idempotency_key: idemKey ?? null };
        try {
          validateParams(match.spec, raw);
          const onUndeclared = checkParamReads
            ? (name: string) => {
                throw new Error(
                  `${match.name} read the parameter ${name}, which its spec in route-specs.ts does not declare`,
                );
              }
            : undefined;
          const params = new Params(raw, "", match.spec, onUndeclared);
          processRealTime(core);
          const ctx = { core, p: params, path: match.params, method, url: path };
          // expand[] is applied inside the transaction: an impossible expansion leaves no change behind.
          const paths = new Params(raw).expand();
          const run = () => applyExpand(match.handler(ctx), paths, resolver);
          body = method === "GET" ? run() : core.tx(run);
        } catch (error) {
          if (error instanceof ApiError) {
            status = error.status;
            body = error.toJSON();
            validationFailed = error.validation;
          } else {
            status = 500;
            const message = error instanceof Error ? error.message : String(error);
            log(
              `internal error on ${method} ${path}: ${error instanceof Error ? (error.stack ?? message) : message}`,
            );
            body = { error: { type: "api_error", message: `Stripe emulator internal error: ${message}` } };
          }
        } finally {
          core.request = null;
        }
      }
      if (status >= 400) {
        body = withRequestLog(body, requestId);
        remember(requestId, method, path, status, raw, body);
      }
      const text = JSON.stringify(body, null, 2);
      if (idemKey && !validationFailed && status !== 401 && status !== 409 && status !== 429) {
        idempotency.save(key, idemKey, {
          method,
          path,
          fingerprint,
          status,
          body: text,
          createdAt: Date.now(),
        });
      }
      const after = faults.take(method, path, "after");
      if (after) return applyFault(after, request, reply);
      if (status >= 400) log(`${method} ${path} -> ${status}`);
      return sendJson(reply, status, text);
    },
  });
}
