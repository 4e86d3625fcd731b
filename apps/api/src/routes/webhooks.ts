import { type Ports, receiveStripeWebhook } from "@minutely/api";
import type { FastifyInstance } from "fastify";
import { errorSchema } from "./openapi-schemas.ts";

/**
 * POST /api/webhooks/stripe. Its own scope with a raw-body parser, because the signature covers the exact
 * bytes Stripe sent; there is no unsigned path. The event is recorded and queued, then acknowledged.
 */
export async function registerWebhookRoutes(app: FastifyInstance, deps: Ports & { webhookSecret: string }) {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: 1024 * 1024 }, (_req, body, done) => {
      done(null, body);
    });
    scope.post(
      "/api/webhooks/stripe",
      {
        schema: {
          tags: ["Webhooks"],
          summary: "Stripe webhook endpoint (signed with STRIPE_WEBHOOK_SECRET)",
          response: {
            200: {
              type: "object",
              properties: { received: { type: "boolean" }, duplicate: { type: "boolean" } },
            },
            400: errorSchema,
          },
        },
      },
      async (req) => {
        const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.from("");
        const signature = req.headers["stripe-signature"];
        const result = await receiveStripeWebhook(deps, {
          rawBody,
          signature: typeof signature === "string" ? signature : undefined,
          secret: deps.webhookSecret,
        });
        return { received: true, duplicate: result.duplicate };
      },
    );
  });
}
