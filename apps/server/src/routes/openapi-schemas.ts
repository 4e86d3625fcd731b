// What the REST routes share in the OpenAPI document: the error body and its documented statuses.
import { z } from "zod";
import type { DocumentedResponse } from "./define-route.ts";

/** The body of every REST error (RestErrorBody). */
export const ZRestErrorSchema = z.object({
  error: z.string().meta({ description: "Machine-readable error code" }),
  message: z.string().meta({ description: "What went wrong, for people" }),
  fields: z.record(z.string(), z.string()).optional().meta({ description: "Per-field messages" }),
});

export const documented = (description: string): DocumentedResponse<typeof ZRestErrorSchema> => ({
  description,
  schema: ZRestErrorSchema,
});

export const errorResponses = {
  400: documented("Invalid input"),
  401: documented("Not signed in / no valid credentials"),
  403: documented("Not allowed"),
  404: documented("Not found"),
  409: documented("Conflict"),
  412: documented("The account has no subscription (or not the one this action needs)"),
  413: documented("Body larger than this endpoint accepts (the message states the limit)"),
  415: documented("Content-Type is not application/json"),
  429: documented("Rate limited"),
  503: {
    description:
      "Stripe or the database is briefly unavailable; nothing was half-done and retrying is safe. Wait the " +
      "Retry-After header's seconds, then back off exponentially with jitter (double each wait up to a cap, " +
      "randomized between half and all of it); resend the same request (for usage, the same call_ids).",
    headers: {
      "retry-after": z
        .number()
        .int()
        .min(1)
        .meta({ description: "Seconds to wait before retrying (5 while the database is down)" }),
    },
    schema: ZRestErrorSchema,
  },
} satisfies Record<number, DocumentedResponse>;

export const sessionSecurity = [{ session: [] }];
