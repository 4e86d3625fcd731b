import type Stripe from "stripe";
import type { WebhookEndpointRec } from "../state.ts";

export function buildWebhookEndpoint(
  rec: WebhookEndpointRec,
  includeSecret: boolean,
): Stripe.WebhookEndpoint {
  return {
    id: rec.id,
    object: "webhook_endpoint",
    api_version: rec.api_version,
    application: null,
    created: rec.created,
    description: rec.description,
    enabled_events: rec.enabled_events,
    livemode: false,
    metadata: rec.metadata,
    ...(includeSecret ? { secret: rec.secret } : {}),
    status: rec.status,
    url: rec.url,
  };
}
