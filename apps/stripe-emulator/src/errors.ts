/** Stripe's error envelope, raised as an exception inside handlers and rendered by the router. */
export type StripeErrorType =
  | "api_error"
  | "card_error"
  | "idempotency_error"
  | "invalid_request_error"
  | "rate_limit_error"
  | "authentication_error";

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  doc_url?: string;
  payment_intent?: unknown;
  payment_method?: unknown;
  charge?: string;
  request_log_url?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly body: StripeErrorBody;
  /**
   * The request failed validation before anything ran (unknown or malformed parameters, a missing required
   * one, an impossible `expand[]`): Stripe saves no idempotent result for it, so a corrected retry with the
   * same `Idempotency-Key` goes through.
   */
  validation = false;

  constructor(status: number, body: StripeErrorBody) {
    super(body.message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }

  toJSON(): { error: StripeErrorBody } {
    return { error: this.body };
  }
}

function docUrl(code: string): string {
  return `https://stripe.com/docs/error-codes/${code.replaceAll("_", "-")}`;
}

export function invalidRequest(message: string, param?: string, code?: string): ApiError {
  const body: StripeErrorBody = { type: "invalid_request_error", message };
  if (param !== undefined) body.param = param;
  if (code !== undefined) {
    body.code = code;
    body.doc_url = docUrl(code);
  }
  return new ApiError(400, body);
}

export function missingParam(param: string): ApiError {
  const error = invalidRequest(`Missing required param: ${param}.`, param, "parameter_missing");
  error.validation = true;
  return error;
}

export function resourceMissing(kind: string, id: string, param = "id"): ApiError {
  return new ApiError(404, {
    type: "invalid_request_error",
    code: "resource_missing",
    doc_url: docUrl("resource_missing"),
    message: `No such ${kind}: '${id}'`,
    param,
  });
}

export function notSupported(what: string): ApiError {
  return invalidRequest(`${what} is not supported by the Stripe emulator (it is not Stripe).`);
}

export function authenticationError(message: string): ApiError {
  return new ApiError(401, { type: "invalid_request_error", message });
}

export function idempotencyError(key: string): ApiError {
  return new ApiError(400, {
    type: "idempotency_error",
    message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
  });
}

export function cardError(
  message: string,
  code: string,
  declineCode: string | undefined,
  extra: Partial<StripeErrorBody> = {},
): ApiError {
  const body: StripeErrorBody = { type: "card_error", code, message, doc_url: docUrl(code), ...extra };
  if (declineCode !== undefined) body.decline_code = declineCode;
  return new ApiError(402, body);
}
