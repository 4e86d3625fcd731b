import type Stripe from "stripe";
import type { EmulatorCore } from "../core.ts";
import { invalidRequest, resourceMissing } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { newId, newSecret } from "../ids.ts";
import { buildWebhookEndpoint } from "../objects/webhookEndpoints.ts";
import type { Params } from "../params.ts";
import type { WebhookEndpointRec } from "../state.ts";
import { API_VERSION } from "../version.ts";

function listEvents(core: EmulatorCore, p: Params, url: string): Stripe.ApiList<Stripe.Event> {
  const type = p.str("type");
  const types = p.strList("types");
  const limit = p.int("limit") ?? 10;
  if (limit < 1 || limit > 100) throw invalidRequest("Limit must be between 1 and 100.", "limit");
  const matchesType = (eventType: string): boolean => {
    if (types && types.length > 0) return types.includes(eventType);
    if (!type) return true;
    if (type.endsWith("*")) return eventType.startsWith(type.slice(0, -1));
    return eventType === type;
  };
  const created = p.obj("created");
  const gte = created?.int("gte");
  const gt = created?.int("gt");
  const lte = created?.int("lte");
  const lt = created?.int("lt");
  // Newest first; events are appended in order so reversing keeps a stable order within a second.
  let events = [...core.events]
    .reverse()
    .filter(
      (e) =>
        matchesType(e.type) &&
        (gte === undefined || e.created >= gte) &&
        (gt === undefined || e.created > gt) &&
        (lte === undefined || e.created <= lte) &&
        (lt === undefined || e.created < lt),
    );
  const startingAfter = p.str("starting_after");
  const endingBefore = p.str("ending_before");
  if (startingAfter) {
    const index = events.findIndex((e) => e.id === startingAfter);
    if (index < 0) throw invalidRequest(`Invalid starting_after id: ${startingAfter}`, "starting_after");
    events = events.slice(index + 1);
  } else if (endingBefore) {
    const index = events.findIndex((e) => e.id === endingBefore);
    if (index < 0) throw invalidRequest(`Invalid ending_before id: ${endingBefore}`, "ending_before");
    events = events.slice(Math.max(0, index - limit), index);
    return { object: "list", data: events, has_more: index - limit > 0, url };
  }
  return { object: "list", data: events.slice(0, limit), has_more: events.length > limit, url };
}

export function createWebhookEndpoint(
  core: EmulatorCore,
  input: {
    url: string;
    secret?: string;
    enabled_events?: string[];
    description?: string | null;
    preregistered: boolean;
  },
): WebhookEndpointRec {
  try {
    new URL(input.url);
  } catch {
    throw invalidRequest(`Invalid URL: ${input.url}`, "url", "url_invalid");
  }
  const rec: WebhookEndpointRec = {
    id: newId("we"),
    seq: core.nextSeq(),
    created: core.realNow(),
    url: input.url,
    secret: input.secret ?? newSecret("whsec"),
    enabled_events: input.enabled_events && input.enabled_events.length > 0 ? input.enabled_events : ["*"],
    status: "enabled",
    description: input.description ?? null,
    metadata: input.preregistered ? { emulator_preregistered: "true" } : {},
    api_version: API_VERSION,
    preregistered: input.preregistered,
    deleted: false,
  };
  core.state.webhookEndpoints[rec.id] = rec;
  return rec;
}

/** A webhook endpoint registered through options or the admin API (kept across `/_emulator/reset`). */
export interface PreregisteredWebhook {
  url: string;
  secret: string;
  enabled_events?: string[];
}

/** Registers (or updates, by URL) a pre-registered endpoint; returns it with its `secret`. */
export function preregisterWebhookEndpoint(
  core: EmulatorCore,
  hook: PreregisteredWebhook,
): Stripe.WebhookEndpoint {
  const existing = Object.values(core.state.webhookEndpoints).find((e) => e.url === hook.url && !e.deleted);
  if (existing) {
    existing.secret = hook.secret;
    existing.preregistered = true;
    if (hook.enabled_events) existing.enabled_events = hook.enabled_events;
    return buildWebhookEndpoint(existing, true);
  }
  const payload: { url: string; secret: string; enabled_events?: string[]; preregistered: boolean } = {
    url: hook.url,
    secret: hook.secret,
    preregistered: true,
  };
  if (hook.enabled_events) payload.enabled_events = hook.enabled_events;
  return buildWebhookEndpoint(
    core.tx(() => createWebhookEndpoint(core, payload)),
    true,
  );
}

function endpoint(core: EmulatorCore, id: string): WebhookEndpointRec {
  const rec = core.state.webhookEndpoints[id];
  if (!rec || rec.deleted) throw resourceMissing("webhook endpoint", id, "id");
  return rec;
}

export function registerEvents(router: Router): void {
  router.get("/v1/events", ({ core, p, url }) => listEvents(core, p, url));
  router.get("/v1/events/:id", ({ core, path }) => {
    const event = core.events.find((e) => e.id === path.id);
    if (!event) throw resourceMissing("event", path.id ?? "", "id");
    return event;
  });

  router.post("/v1/webhook_endpoints", ({ core, p }) => {
    const apiVersion = p.str("api_version");
    if (apiVersion !== undefined && apiVersion !== API_VERSION) {
      throw invalidRequest(
        `The Stripe emulator renders events in API version ${API_VERSION} only; this endpoint asked for ${apiVersion}.`,
        "api_version",
      );
    }
    const rec = createWebhookEndpoint(core, {
      url: p.reqStr("url"),
      enabled_events: p.strList("enabled_events") ?? ["*"],
      description: p.str("description") ?? null,
      preregistered: false,
    });
    rec.metadata = p.metadata("metadata", rec.metadata);
    return buildWebhookEndpoint(rec, true);
  });
  router.get("/v1/webhook_endpoints", ({ core, p, url }) => {
    const items = Object.values(core.state.webhookEndpoints).filter((e) => !e.deleted);
    const limit = p.int("limit") ?? 10;
    const sorted = items.sort((a, b) => b.seq - a.seq);
    return {
      object: "list",
      data: sorted.slice(0, limit).map((e) => buildWebhookEndpoint(e, false)),
      has_more: sorted.length > limit,
      url,
    };
  });
  router.get("/v1/webhook_endpoints/:id", ({ core, path }) =>
    buildWebhookEndpoint(endpoint(core, path.id ?? ""), false),
  );
  router.post("/v1/webhook_endpoints/:id", ({ core, p, path }) => {
    const rec = endpoint(core, path.id ?? "");
    if (p.has("url")) rec.url = p.reqStr("url");
    if (p.has("enabled_events")) rec.enabled_events = p.strList("enabled_events") ?? ["*"];
    if (p.has("description")) rec.description = p.nullableStr("description") ?? null;
    if (p.has("disabled")) rec.status = p.bool("disabled") ? "disabled" : "enabled";
    rec.metadata = p.metadata("metadata", rec.metadata);
    return buildWebhookEndpoint(rec, false);
  });
  router.del("/v1/webhook_endpoints/:id", ({ core, path }) => {
    const rec = endpoint(core, path.id ?? "");
    rec.deleted = true;
    return { id: rec.id, object: "webhook_endpoint", deleted: true } satisfies Stripe.DeletedWebhookEndpoint;
  });
}
