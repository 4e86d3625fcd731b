// JSON schemas shared by the REST routes; @fastify/swagger turns them into the OpenAPI document.

export const errorSchema = {
  type: "object",
  required: ["error", "message"],
  properties: {
    error: { type: "string", description: "Machine-readable error code" },
    message: { type: "string", description: "What went wrong, for people" },
    fields: { type: "object", additionalProperties: { type: "string" }, description: "Per-field messages" },
  },
} as const;

export const errorResponses = {
  400: { description: "Invalid input", ...errorSchema },
  401: { description: "Not signed in / no valid credentials", ...errorSchema },
  403: { description: "Not allowed", ...errorSchema },
  404: { description: "Not found", ...errorSchema },
  409: { description: "Conflict", ...errorSchema },
  413: {
    description: "Body larger than this endpoint accepts (the message states the limit)",
    ...errorSchema,
  },
  429: { description: "Rate limited", ...errorSchema },
  503: {
    description:
      "Stripe or the database is briefly unavailable; nothing was half-done and retrying is safe. Wait the " +
      "Retry-After header's seconds, then back off exponentially with jitter (double each wait up to a cap, " +
      "randomized between half and all of it); resend the same request (for usage, the same call_ids).",
    headers: {
      "retry-after": {
        type: "integer",
        minimum: 1,
        description: "Seconds to wait before retrying (5 while the database is down)",
      },
    },
    ...errorSchema,
  },
} as const;

export const sessionSecurity = [{ session: [] }];
