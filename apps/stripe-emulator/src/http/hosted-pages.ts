import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { attemptInvoicePayment } from "../billing/invoices.ts";
import { authenticatePaymentIntent } from "../billing/paymentIntents.ts";
import { attachPaymentMethod } from "../billing/payments.ts";
import { cardBySlug } from "../cards.ts";
import { ApiError } from "../errors.ts";
import { checkoutSession, completeCheckout } from "../resources/checkout.ts";
import type { Raw } from "../spec.ts";
import { lenientBody } from "./app.ts";
import type { EmulatorContext } from "./context.ts";
import {
  authenticatePage,
  checkoutPage,
  creditNotePdf,
  invoicePage,
  invoicePdf,
  landingPage,
  paymentIntentAuthenticatePage,
} from "./pages.ts";
import { registerPortal } from "./portal.ts";

/** The pages a browser opens: the landing page, Checkout (`session.url`) and hosted invoices with their PDF. */
export function registerHostedPages(app: FastifyInstance, ctx: EmulatorContext): void {
  const { core, log } = ctx;

  const html = (reply: FastifyReply, status: number, body: string): FastifyReply =>
    reply.code(status).header("content-type", "text/html; charset=utf-8").send(body);

  const formField = (body: Raw, key: string): string => (typeof body[key] === "string" ? body[key] : "");

  app.get("/", async (_request, reply) => html(reply, 200, landingPage(core.baseUrl)));
  registerPortal(app, ctx);

  app.get<{ Params: { id: string } }>("/checkout/:id", async (request, reply) => {
    const session = core.state.checkoutSessions[request.params.id];
    if (!session)
      return html(
        reply,
        404,
        "<!doctype html><title>Not found</title><p>No such checkout session (Stripe emulator).</p>",
      );
    return html(reply, 200, checkoutPage(core, session));
  });

  const submitCheckout = (
    request: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    authenticated: boolean,
  ) => {
    const session = core.state.checkoutSessions[request.params.id];
    if (!session)
      return html(reply, 404, "<!doctype html><title>Not found</title><p>No such checkout session.</p>");
    const body = lenientBody(request);
    const slug = formField(body, "card") || "visa";
    const email = formField(body, "email");
    const name = formField(body, "name");
    const promotionCode = formField(body, "promotion_code").trim();
    const address = {
      country: formField(body, "address_country"),
      state: formField(body, "address_state"),
      postal_code: formField(body, "address_postal_code"),
    };
    const card = cardBySlug(slug);
    if (!card)
      return html(reply, 400, checkoutPage(core, session, { error: "Choose a test card.", email, name }));
    if (authenticated && formField(body, "result") === "fail") {
      return html(
        reply,
        402,
        checkoutPage(core, session, {
          error:
            "We are unable to authenticate your payment method. Please choose a different payment method and try again.",
          selected: slug,
          email,
          name,
        }),
      );
    }
    try {
      const outcome = core.tx(() =>
        completeCheckout(core, checkoutSession(core, session.id), {
          card,
          email: email || null,
          name: name || null,
          authenticated,
          promotionCode: promotionCode || null,
          address,
        }),
      );
      if (outcome.kind === "authenticate")
        return html(reply, 200, authenticatePage(session, slug, email, name, address));
      log(`checkout ${session.id} completed`);
      return reply.redirect(outcome.url, 303);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return html(
        reply,
        error.status,
        checkoutPage(core, session, {
          error: error.message,
          selected: slug,
          email,
          name,
          promotionCode,
          address,
        }),
      );
    }
  };
  app.post<{ Params: { id: string } }>("/checkout/:id/pay", async (request, reply) =>
    submitCheckout(request, reply, false),
  );
  app.post<{ Params: { id: string } }>("/checkout/:id/authenticate", async (request, reply) =>
    submitCheckout(request, reply, true),
  );
  app.post<{ Params: { id: string } }>("/checkout/:id/cancel", async (request, reply) => {
    const session = core.state.checkoutSessions[request.params.id];
    if (!session)
      return html(reply, 404, "<!doctype html><title>Not found</title><p>No such checkout session.</p>");
    return reply.redirect(session.cancel_url ?? core.baseUrl, 303);
  });

  // The `next_action.redirect_to_url.url` of a PaymentIntent that needs 3-D Secure.
  app.get<{ Params: { id: string } }>("/payment_intents/:id/authenticate", async (request, reply) => {
    const pi = core.state.paymentIntents[request.params.id];
    if (!pi) return html(reply, 404, "<!doctype html><title>Not found</title><p>No such payment.</p>");
    return html(reply, 200, paymentIntentAuthenticatePage(pi));
  });
  app.post<{ Params: { id: string } }>("/payment_intents/:id/authenticate", async (request, reply) => {
    const pi = core.state.paymentIntents[request.params.id];
    if (!pi) return html(reply, 404, "<!doctype html><title>Not found</title><p>No such payment.</p>");
    const success = formField(lenientBody(request), "result") !== "fail";
    let message: string | undefined;
    try {
      core.tx(() => authenticatePaymentIntent(core, pi, success));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      message = error.message;
    }
    const current = core.state.paymentIntents[pi.id] ?? pi;
    if (message === undefined && current.return_url) {
      const target = new URL(current.return_url);
      target.searchParams.set("payment_intent", current.id);
      target.searchParams.set("payment_intent_client_secret", current.client_secret);
      return reply.redirect(target.toString(), 303);
    }
    return html(reply, message ? 402 : 200, paymentIntentAuthenticatePage(current, message));
  });

  app.get<{ Params: { id: string } }>("/invoices/:id", async (request, reply) => {
    const inv = core.state.invoices[request.params.id];
    if (!inv || inv.deleted)
      return html(reply, 404, "<!doctype html><title>Not found</title><p>No such invoice.</p>");
    return html(reply, 200, invoicePage(core, inv));
  });
  app.get<{ Params: { id: string } }>("/invoices/:id/pdf", async (request, reply) => {
    const inv = core.state.invoices[request.params.id];
    if (!inv || inv.deleted) return reply.code(404).send("Not found");
    return reply
      .header("content-type", "application/pdf")
      .header("content-disposition", `inline; filename="${inv.number ?? inv.id}.pdf"`)
      .send(invoicePdf(core, inv));
  });
  app.get<{ Params: { id: string } }>("/credit_notes/:id/pdf", async (request, reply) => {
    const cn = core.state.creditNotes[request.params.id];
    if (!cn) return reply.code(404).send("Not found");
    return reply
      .header("content-type", "application/pdf")
      .header("content-disposition", `inline; filename="${cn.number}.pdf"`)
      .send(creditNotePdf(core, cn));
  });
  app.post<{ Params: { id: string } }>("/invoices/:id/pay", async (request, reply) => {
    const inv = core.state.invoices[request.params.id];
    if (!inv || inv.deleted)
      return html(reply, 404, "<!doctype html><title>Not found</title><p>No such invoice.</p>");
    const card = cardBySlug(formField(lenientBody(request), "card") || "visa");
    if (!card) return html(reply, 400, invoicePage(core, inv, "Choose a test card."));
    try {
      const attempt = core.tx(() => {
        const pm = attachPaymentMethod(core, card.paymentMethods[0] ?? "pm_card_visa", inv.customer);
        return attemptInvoicePayment(core, inv, core.clockNow(inv.test_clock), {
          paymentMethod: pm.id,
          automatic: false,
          authenticated: true,
        });
      });
      if (!attempt.ok) return html(reply, 402, invoicePage(core, inv, attempt.decline.message));
      return reply.redirect(`/invoices/${inv.id}`, 303);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return html(reply, error.status, invoicePage(core, inv, error.message));
    }
  });
}
