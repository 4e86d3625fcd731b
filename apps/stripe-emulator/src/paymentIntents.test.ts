import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StripeEmulator } from "./server.ts";
import { startTestEmulator } from "./testing.ts";

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(async () => {
  await emulator.close();
});

async function eventTypesFor(paymentIntent: string): Promise<string[]> {
  const events = await stripe.events.list({ limit: 100 });
  return events.data
    .filter((e) => {
      const object = e.data.object as { id?: string; payment_intent?: string };
      return object.id === paymentIntent || object.payment_intent === paymentIntent;
    })
    .map((e) => e.type)
    .reverse();
}

function submit(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
    redirect: "manual",
  });
}

describe("payment intents", () => {
  it("walks create → requires_confirmation → succeeded, with the charge and events Stripe sends", async () => {
    const created = await stripe.paymentIntents.create({ amount: 2500, currency: "usd" });
    expect(created).toMatchObject({ status: "requires_payment_method", amount: 2500, amount_received: 0 });
    expect(created.client_secret).toMatch(/^pi_\w+_secret_\w+$/);
    const updated = await stripe.paymentIntents.update(created.id, {
      payment_method: "pm_card_visa",
      metadata: { order: "o_1" },
    });
    expect(updated.status).toBe("requires_confirmation");
    const confirmed = await stripe.paymentIntents.confirm(created.id);
    expect(confirmed).toMatchObject({
      status: "succeeded",
      amount_received: 2500,
      metadata: { order: "o_1" },
    });
    const expanded = await stripe.paymentIntents.retrieve(created.id, { expand: ["latest_charge"] });
    expect(expanded.latest_charge).toMatchObject({ object: "charge", status: "succeeded", amount: 2500 });
    expect(await eventTypesFor(created.id)).toEqual([
      "payment_intent.created",
      "charge.succeeded",
      "payment_intent.succeeded",
    ]);
    await expect(stripe.paymentIntents.confirm(created.id)).rejects.toMatchObject({
      code: "payment_intent_unexpected_state",
    });
    await expect(stripe.paymentIntents.cancel(created.id)).rejects.toMatchObject({
      code: "payment_intent_unexpected_state",
    });
  });

  it("charges a saved card off session in one call (customer + payment_method, confirm, off_session)", async () => {
    const customer = await stripe.customers.create({ payment_method: "pm_card_visa" });
    const [card] = (await stripe.customers.listPaymentMethods(customer.id)).data;
    const pi = await stripe.paymentIntents.create(
      {
        amount: 1200,
        currency: "usd",
        customer: customer.id,
        payment_method: card?.id ?? "",
        off_session: true,
        confirm: true,
      },
      { idempotencyKey: "off-session-once" },
    );
    expect(pi).toMatchObject({ status: "succeeded", customer: customer.id, payment_method: card?.id });
    const again = await stripe.paymentIntents.create(
      {
        amount: 1200,
        currency: "usd",
        customer: customer.id,
        payment_method: card?.id ?? "",
        off_session: true,
        confirm: true,
      },
      { idempotencyKey: "off-session-once" },
    );
    expect(again.id).toBe(pi.id);
    expect((await stripe.paymentIntents.list({ customer: customer.id })).data).toHaveLength(1);
  });

  it("declines with card_declined / insufficient_funds, keeps the failed attempt, and can be retried", async () => {
    const customer = await stripe.customers.create({});
    const error = await stripe.paymentIntents
      .create({
        amount: 5000,
        currency: "usd",
        customer: customer.id,
        payment_method: "pm_card_chargeDeclinedInsufficientFunds",
        confirm: true,
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      type: "StripeCardError",
      statusCode: 402,
      code: "card_declined",
      decline_code: "insufficient_funds",
    });
    const failed = (error as Stripe.errors.StripeCardError).payment_intent;
    expect(failed).toMatchObject({
      status: "requires_payment_method",
      last_payment_error: { code: "card_declined", decline_code: "insufficient_funds" },
    });
    const id = failed?.id ?? "";
    expect(await eventTypesFor(id)).toEqual([
      "payment_intent.created",
      "charge.failed",
      "payment_intent.payment_failed",
    ]);
    const retried = await stripe.paymentIntents.confirm(id, { payment_method: "pm_card_mastercard" });
    expect(retried.status).toBe("succeeded");
    expect(retried.last_payment_error).toBeNull();
  });

  it("needs 3-D Secure on session (requires_action → hosted step → succeeded)", async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 3000,
      currency: "eur",
      payment_method: "pm_card_authenticationRequired",
      confirm: true,
      return_url: "http://localhost:3000/paid",
    });
    expect(pi.status).toBe("requires_action");
    expect(pi.next_action?.type).toBe("redirect_to_url");
    const url = pi.next_action?.redirect_to_url?.url ?? "";
    expect(url).toBe(`${emulator.url}/payment_intents/${pi.id}/authenticate`);
    const page = await fetch(url).then((r) => r.text());
    expect(page).toContain('id="authorize"');
    expect(page).toContain("€30.00");
    const response = await submit(url, { result: "complete" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toContain(`http://localhost:3000/paid?payment_intent=${pi.id}`);
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe("succeeded");
    expect(await eventTypesFor(pi.id)).toEqual([
      "payment_intent.created",
      "payment_intent.requires_action",
      "charge.succeeded",
      "payment_intent.succeeded",
    ]);
  });

  it("changing the amount while 3-D Secure is pending needs a new confirmation", async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 3000,
      currency: "usd",
      payment_method: "pm_card_authenticationRequired",
      confirm: true,
      return_url: "http://localhost:3000/paid",
    });
    expect(pi.status).toBe("requires_action");
    const url = pi.next_action?.redirect_to_url?.url ?? "";
    const described = await stripe.paymentIntents.update(pi.id, { description: "still pending" });
    expect(described.status).toBe("requires_action");
    const updated = await stripe.paymentIntents.update(pi.id, { amount: 5000 });
    expect(updated).toMatchObject({ status: "requires_confirmation", next_action: null, amount: 5000 });
    // The old 3-D Secure step no longer pays it.
    expect((await submit(url, { result: "complete" })).status).not.toBe(303);
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe("requires_confirmation");
    const again = await stripe.paymentIntents.confirm(pi.id, { return_url: "http://localhost:3000/paid" });
    expect(again.status).toBe("requires_action");
    expect((await submit(url, { result: "complete" })).status).toBe(303);
    const paid = await stripe.paymentIntents.retrieve(pi.id, { expand: ["latest_charge"] });
    expect(paid).toMatchObject({ status: "succeeded", amount: 5000, amount_received: 5000 });
    expect((paid.latest_charge as Stripe.Charge).amount).toBe(5000);
  });

  it("a failed 3-D Secure step leaves the PaymentIntent requiring a payment method", async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 3000,
      currency: "usd",
      payment_method: "pm_card_authenticationRequired",
      confirm: true,
    });
    await submit(`${emulator.url}/payment_intents/${pi.id}/authenticate`, { result: "fail" });
    expect(await stripe.paymentIntents.retrieve(pi.id)).toMatchObject({
      status: "requires_payment_method",
      last_payment_error: { code: "payment_intent_authentication_failure" },
    });
  });

  it("off session, a card that needs authentication fails with authentication_required (402)", async () => {
    const customer = await stripe.customers.create({ payment_method: "pm_card_authenticationRequired" });
    const [card] = (await stripe.customers.listPaymentMethods(customer.id)).data;
    const error = await stripe.paymentIntents
      .create({
        amount: 900,
        currency: "usd",
        customer: customer.id,
        payment_method: card?.id ?? "",
        off_session: true,
        confirm: true,
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      type: "StripeCardError",
      code: "authentication_required",
      decline_code: "authentication_required",
    });
    expect((error as Stripe.errors.StripeCardError).payment_intent?.status).toBe("requires_payment_method");
  });

  it("4000002500003155 authenticates once with setup_future_usage, then pays off session", async () => {
    const customer = await stripe.customers.create({});
    const first = await stripe.paymentIntents.create({
      amount: 1000,
      currency: "usd",
      customer: customer.id,
      payment_method: "pm_card_authenticationRequiredOnSetup",
      setup_future_usage: "off_session",
      confirm: true,
    });
    expect(first.status).toBe("requires_action");
    await submit(`${emulator.url}/payment_intents/${first.id}/authenticate`, { result: "complete" });
    const done = await stripe.paymentIntents.retrieve(first.id);
    expect(done).toMatchObject({ status: "succeeded", setup_future_usage: "off_session" });
    // setup_future_usage attached the card to the customer.
    const saved = await stripe.paymentMethods.retrieve(String(done.payment_method));
    expect(saved.customer).toBe(customer.id);
    const later = await stripe.paymentIntents.create({
      amount: 1000,
      currency: "usd",
      customer: customer.id,
      payment_method: saved.id,
      off_session: true,
      confirm: true,
    });
    expect(later.status).toBe("succeeded");
  });

  it("cancels an open PaymentIntent with a reason (payment_intent.canceled)", async () => {
    const pi = await stripe.paymentIntents.create({ amount: 700, currency: "usd" });
    const canceled = await stripe.paymentIntents.cancel(pi.id, { cancellation_reason: "abandoned" });
    expect(canceled).toMatchObject({ status: "canceled", cancellation_reason: "abandoned" });
    expect(canceled.canceled_at).toEqual(expect.any(Number));
    expect(await eventTypesFor(pi.id)).toEqual(["payment_intent.created", "payment_intent.canceled"]);
  });

  it("validates amounts and parameters as Stripe does", async () => {
    await expect(stripe.paymentIntents.create({ amount: 20, currency: "usd" })).rejects.toMatchObject({
      code: "amount_too_small",
      param: "amount",
      message: "Amount must be at least $0.50 usd",
    });
    await expect(
      stripe.paymentIntents.create({ amount: 1000, currency: "usd", off_session: true }),
    ).rejects.toMatchObject({ param: "off_session" });
    await expect(
      stripe.paymentIntents.create({
        amount: 1000,
        currency: "usd",
        setup_future_usage: "sometimes" as "on_session",
      }),
    ).rejects.toMatchObject({ param: "setup_future_usage" });
    await expect(
      stripe.paymentIntents.create({ amount: 1000, currency: "usd", confirm: true }),
    ).rejects.toMatchObject({ code: "payment_intent_unexpected_state" });
  });
});
