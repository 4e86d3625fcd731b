import type { FastifyInstance, FastifyReply } from "fastify";
import { formatAmount } from "../billing/invoices.ts";
import { attachPaymentMethod } from "../billing/payments.ts";
import { updateSubscription } from "../billing/subscriptions.ts";
import { cardBySlug } from "../cards.ts";
import type { EmulatorCore } from "../core.ts";
import { ApiError } from "../errors.ts";
import { buildCustomer } from "../objects/customers.ts";
import { Params } from "../params.ts";
import type { PortalSessionRec } from "../payments-state.ts";
import { lenientBody } from "./app.ts";
import type { EmulatorContext } from "./context.ts";
import { cardOptions, escapeHtml, layout } from "./pages.ts";

const LIVE = ["active", "trialing", "past_due", "unpaid"];

const day = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);

function portalPage(
  core: EmulatorCore,
  session: PortalSessionRec,
  message?: { error?: string; notice?: string },
): string {
  const customer = core.state.customers[session.customer];
  const base = `/billing_portal/${encodeURIComponent(session.id)}`;
  const subs = Object.values(core.state.subscriptions)
    .filter((s) => s.customer === session.customer && LIVE.includes(s.status))
    .sort((a, b) => a.seq - b.seq);
  const subRows = subs
    .map((sub) => {
      const names = sub.items
        .map((item) => {
          const price = core.state.prices[item.price];
          const product = price ? core.state.products[price.product]?.name : undefined;
          return `${escapeHtml(product ?? item.price)}${price ? ` — ${escapeHtml(formatAmount(price.unit_amount * item.quantity, price.currency))}` : ""}`;
        })
        .join("<br>");
      const end = sub.items[0]?.current_period_end;
      const action = sub.cancel_at_period_end
        ? `<form method="post" action="${base}/renew"><input type="hidden" name="subscription" value="${escapeHtml(sub.id)}"><button type="submit" class="secondary" id="renew-${escapeHtml(sub.id)}">Renew subscription</button></form>`
        : `<form method="post" action="${base}/cancel"><input type="hidden" name="subscription" value="${escapeHtml(sub.id)}"><button type="submit" class="secondary" id="cancel-${escapeHtml(sub.id)}">Cancel subscription</button></form>`;
      const status =
        sub.cancel_at_period_end && end
          ? `cancels on ${day(end)}`
          : `${sub.status}${end ? `, renews on ${day(end)}` : ""}`;
      return `<tr data-subscription="${escapeHtml(sub.id)}"><td>${names}</td><td class="status">${escapeHtml(status)}</td><td>${action}</td></tr>`;
    })
    .join("\n");
  const invoices = Object.values(core.state.invoices)
    .filter((inv) => inv.customer === session.customer && !inv.deleted && inv.status !== "draft")
    .sort((a, b) => b.seq - a.seq)
    .map(
      (inv) =>
        `<tr><td>${escapeHtml(day(inv.created))}</td><td><a href="/invoices/${encodeURIComponent(inv.id)}">${escapeHtml(inv.number ?? inv.id)}</a></td><td>${escapeHtml(inv.status)}</td><td class="amount">${escapeHtml(formatAmount(inv.amount_due, inv.currency))}</td><td><a href="/invoices/${encodeURIComponent(inv.id)}/pdf">PDF</a></td></tr>`,
    )
    .join("\n");
  const pm = customer?.default_payment_method
    ? core.state.paymentMethods[customer.default_payment_method]
    : undefined;
  return layout(
    "Billing",
    `<h1 id="portal-title">Billing for ${escapeHtml(customer?.email ?? customer?.name ?? session.customer)}</h1>
${message?.error ? `<p class="error" role="alert" id="portal-error">${escapeHtml(message.error)}</p>` : ""}
${message?.notice ? `<p role="status" id="portal-notice">${escapeHtml(message.notice)}</p>` : ""}
<h2>Subscriptions</h2>
${subRows ? `<table aria-label="Subscriptions" id="portal-subscriptions"><tbody>${subRows}</tbody></table>` : `<p id="portal-no-subscriptions">No current subscriptions.</p>`}
<h2>Payment method</h2>
<p id="portal-card">${pm ? `${escapeHtml(pm.card.brand)} •••• ${escapeHtml(pm.card.last4)}` : "None on file"}</p>
<form method="post" action="${base}/payment_method" id="portal-card-form">
<fieldset><legend>New test card</legend>${cardOptions("visa")}</fieldset>
<button type="submit" class="primary" id="update-card">Update card</button>
</form>
<h2>Invoice history</h2>
${invoices ? `<table aria-label="Invoices" id="portal-invoices"><thead><tr><th>Date</th><th>Number</th><th>Status</th><th class="amount">Amount</th><th></th></tr></thead><tbody>${invoices}</tbody></table>` : "<p>No invoices yet.</p>"}
${session.return_url ? `<p><a id="portal-return" href="${escapeHtml(session.return_url)}">Return</a></p>` : ""}`,
  );
}

/**
 * The customer portal (`billing_portal.session.url`): the customer's subscriptions (cancel at period end,
 * renew), default card (update it with a test card) and invoices. Each action runs through the same
 * billing code as the API, so it emits the usual webhooks.
 */
export function registerPortal(app: FastifyInstance, ctx: EmulatorContext): void {
  const { core } = ctx;
  const html = (reply: FastifyReply, status: number, body: string): FastifyReply =>
    reply.code(status).header("content-type", "text/html; charset=utf-8").send(body);
  const notFound = (reply: FastifyReply) =>
    html(
      reply,
      404,
      "<!doctype html><title>Not found</title><p>No such portal session (Stripe emulator).</p>",
    );

  app.get<{ Params: { id: string } }>("/billing_portal/:id", async (request, reply) => {
    const session = core.state.portalSessions[request.params.id];
    if (!session) return notFound(reply);
    return html(reply, 200, portalPage(core, session));
  });

  const action = (name: string, run: (session: PortalSessionRec, field: (key: string) => string) => string) =>
    app.post<{ Params: { id: string } }>(`/billing_portal/:id/${name}`, async (request, reply) => {
      const session = core.state.portalSessions[request.params.id];
      if (!session) return notFound(reply);
      const body = lenientBody(request);
      const field = (key: string) => (typeof body[key] === "string" ? body[key] : "");
      try {
        const notice = core.tx(() => run(session, field));
        return html(reply, 200, portalPage(core, session, { notice }));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        return html(reply, error.status, portalPage(core, session, { error: error.message }));
      }
    });

  const ownSubscription = (session: PortalSessionRec, id: string) => {
    const sub = core.state.subscriptions[id];
    if (!sub || sub.customer !== session.customer) {
      throw new ApiError(404, { type: "invalid_request_error", message: "No such subscription." });
    }
    return sub;
  };

  action("cancel", (session, field) => {
    const sub = ownSubscription(session, field("subscription"));
    updateSubscription(core, sub, new Params({ cancel_at_period_end: "true" }));
    return "Your subscription will be canceled at the end of the billing period.";
  });
  action("renew", (session, field) => {
    const sub = ownSubscription(session, field("subscription"));
    updateSubscription(core, sub, new Params({ cancel_at_period_end: "false" }));
    return "Your subscription will renew.";
  });
  action("payment_method", (session, field) => {
    const card = cardBySlug(field("card") || "visa");
    if (!card) throw new ApiError(400, { type: "invalid_request_error", message: "Choose a test card." });
    const customer = core.customer(session.customer);
    const pm = attachPaymentMethod(core, card.paymentMethods[0] ?? "pm_card_visa", customer.id);
    pm.off_session_ready = true;
    const before = buildCustomer(core, customer);
    customer.default_payment_method = pm.id;
    core.emitUpdate("customer.updated", before, buildCustomer(core, customer));
    for (const sub of Object.values(core.state.subscriptions)) {
      if (sub.customer === customer.id && LIVE.includes(sub.status) && sub.default_payment_method !== null) {
        updateSubscription(core, sub, new Params({ default_payment_method: pm.id }));
      }
    }
    return `Card •••• ${pm.card.last4} is now your default payment method.`;
  });
}
