import type { FastifyInstance } from "fastify";
import { processRealTime } from "../billing/clock.ts";
import { newId } from "../ids.ts";
import { buildWebhookEndpoint } from "../objects/webhookEndpoints.ts";
import { type PreregisteredWebhook, preregisterWebhookEndpoint } from "../resources/events.ts";
import type { Raw } from "../spec.ts";
import { API_VERSION, EMULATOR_DESCRIPTION } from "../version.ts";
import { lenientBody } from "./app.ts";
import { type EmulatorContext, resetEmulator } from "./context.ts";
import { chaosOptionsSchema } from "./webhooks.ts";

/** The emulator's own admin API, `/_emulator/*` (JSON, no auth): reset, deliveries, chaos, faults, logs, state. */
export function registerAdmin(app: FastifyInstance, ctx: EmulatorContext): void {
  const { core, webhooks, faults, requestLog } = ctx;

  app.get("/_emulator/health", async () => ({
    ok: true,
    apiVersion: API_VERSION,
    emulator: true,
    description: EMULATOR_DESCRIPTION,
  }));
  app.post("/_emulator/reset", async () => {
    resetEmulator(ctx);
    return { ok: true };
  });
  app.get("/_emulator/deliveries", async (request) => {
    const q = request.query as Raw;
    const data = webhooks
      .deliveries()
      .filter(
        (d) =>
          (typeof q.event_type !== "string" || d.event_type === q.event_type) &&
          (typeof q.event_id !== "string" || d.event_id === q.event_id) &&
          (typeof q.endpoint !== "string" || d.endpoint_id === q.endpoint || d.url === q.endpoint),
      );
    return { object: "list", data, pending: webhooks.pendingCount() };
  });
  app.delete("/_emulator/deliveries", async () => {
    webhooks.clearLog();
    return { ok: true };
  });
  app.get("/_emulator/webhook_endpoints", async () => ({
    object: "list",
    data: Object.values(core.state.webhookEndpoints)
      .filter((e) => !e.deleted)
      .map((e) => buildWebhookEndpoint(e, true)),
  }));
  app.post("/_emulator/webhook_endpoints", async (request, reply) => {
    const body = lenientBody(request);
    if (typeof body.url !== "string") return reply.code(400).send({ error: { message: "url is required" } });
    const input: PreregisteredWebhook = {
      url: body.url,
      secret: typeof body.secret === "string" ? body.secret : newId("whsec", 32),
    };
    if (Array.isArray(body.enabled_events))
      input.enabled_events = body.enabled_events.filter((e): e is string => typeof e === "string");
    return preregisterWebhookEndpoint(core, input);
  });
  app.get("/_emulator/chaos", async () => webhooks.getChaos());
  app.post("/_emulator/chaos", async (request, reply) => {
    const parsed = chaosOptionsSchema.safeParse(lenientBody(request));
    if (!parsed.success) return reply.code(400).send({ error: { message: parsed.error.message } });
    webhooks.setChaos(parsed.data);
    return webhooks.getChaos();
  });
  app.post("/_emulator/webhooks/pause", async () => {
    webhooks.pause();
    return { ok: true };
  });
  app.post("/_emulator/webhooks/resume", async () => {
    webhooks.resume();
    return { ok: true };
  });
  app.post("/_emulator/flush", async () => {
    await webhooks.flush();
    return { ok: true, pending: webhooks.pendingCount() };
  });
  app.get("/_emulator/faults", async () => ({ object: "list", data: faults.list() }));
  app.post("/_emulator/faults", async (request, reply) => {
    const body = lenientBody(request);
    const inputs = Array.isArray(body.rules) ? body.rules : [body];
    try {
      return { object: "list", data: inputs.map((input) => faults.add(input)) };
    } catch (error) {
      return reply
        .code(400)
        .send({ error: { message: error instanceof Error ? error.message : String(error) } });
    }
  });
  app.delete("/_emulator/faults", async () => {
    faults.clear();
    return { ok: true };
  });
  app.post("/_emulator/tick", async () => {
    processRealTime(core);
    return { ok: true };
  });
  app.get<{ Params: { id: string } }>("/_emulator/logs/:id", async (request, reply) => {
    const entry = requestLog.get(request.params.id);
    if (!entry)
      return reply
        .code(404)
        .send({ error: { message: `No failed request ${request.params.id} is logged.` } });
    return entry;
  });
  app.get("/_emulator/state", async () => ({
    apiVersion: API_VERSION,
    state: core.state,
    events: core.events.length,
  }));
}
