import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StripeEmulator } from "./server.ts";
import { invoiceInvariantViolations, startTestEmulator } from "./testing.ts";

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(async () => {
  expect(await invoiceInvariantViolations(stripe)).toEqual([]);
  await emulator.close();
});

function submit(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
    redirect: "manual",
  });
}

async function subscriptionSession(customer?: string) {
  const product = await stripe.products.create({ name: "Team plan" });
  const price = await stripe.prices.create({
    product: product.id,
    currency: "usd",
    unit_amount: 4900,
    recurring: { interval: "month" },
  });
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    ...(customer ? { customer } : { customer_email: "new@minutely.test" }),
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: "http://localhost:3000/billing/success?session_id={CHECKOUT_SESSION_ID}",
    cancel_url: "http://localhost:3000/billing/cancel",
    metadata: { workspace: "ws_1" },
    subscription_data: { metadata: { workspace: "ws_1" } },
  });
  return { session, price };
}

describe("hosted checkout", () => {
  it("serves a clearly labelled page with stable form controls", async () => {
    const { session } = await subscriptionSession();
    expect(session.url).toBe(`${emulator.url}/checkout/${session.id}`);
    const page = await fetch(session.url ?? "").then((r) => r.text());
    expect(page).toContain("Stripe emulator — test mode, not Stripe");
    expect(page).toContain('id="card-visa"');
    expect(page).toContain('id="card-declined"');
    expect(page).toContain('id="submit"');
    expect(page).toContain("$49.00");
  });

  it("completes a subscription checkout and redirects to success_url", async () => {
    const customer = await stripe.customers.create({ email: "buyer@minutely.test" });
    const { session } = await subscriptionSession(customer.id);
    const response = await submit(`${emulator.url}/checkout/${session.id}/pay`, {
      card: "visa",
      email: "buyer@minutely.test",
      name: "Ada",
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(
      `http://localhost:3000/billing/success?session_id=${session.id}`,
    );
    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ["subscription"] });
    expect(done.status).toBe("complete");
    expect(done.payment_status).toBe("paid");
    const sub = done.subscription as Stripe.Subscription;
    expect(sub.status).toBe("active");
    expect(sub.metadata).toEqual({ workspace: "ws_1" });
    expect(typeof sub.default_payment_method).toBe("string");
    const types = (await stripe.events.list({ limit: 30 })).data.map((e) => e.type);
    expect(types).toContain("checkout.session.completed");
    expect(types).toContain("customer.subscription.created");
    expect(types).toContain("invoice.paid");
  });

  it("shows the decline on the page and keeps the session open", async () => {
    const { session } = await subscriptionSession();
    const response = await submit(`${emulator.url}/checkout/${session.id}/pay`, {
      card: "declined",
      email: "x@minutely.test",
    });
    expect(response.status).toBe(402);
    expect(await response.text()).toContain("Your card was declined.");
    const still = await stripe.checkout.sessions.retrieve(session.id);
    expect(still.status).toBe("open");
    expect(still.subscription).toBeNull();
    expect(
      (await stripe.subscriptions.list({ status: "all" })).data.filter(
        (s) => s.metadata.workspace === "never",
      ),
    ).toHaveLength(0);
  });

  it("asks for 3-D Secure for the authentication card and completes after it", async () => {
    const { session } = await subscriptionSession();
    const challenge = await submit(`${emulator.url}/checkout/${session.id}/pay`, {
      card: "authentication-required",
      email: "sca@minutely.test",
    });
    expect(await challenge.text()).toContain('id="authorize"');
    const response = await submit(`${emulator.url}/checkout/${session.id}/authenticate`, {
      card: "authentication-required",
      email: "sca@minutely.test",
      name: "",
      result: "complete",
    });
    expect(response.status).toBe(303);
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe("complete");
  });

  it("expires an open session: paying it is refused, as is expiring it again or a completed one", async () => {
    const customer = await stripe.customers.create({ email: "twice@minutely.test" });
    const { session } = await subscriptionSession(customer.id);
    const expired = await stripe.checkout.sessions.expire(session.id);
    expect(expired).toMatchObject({ id: session.id, status: "expired", url: null });
    const page = await submit(`${emulator.url}/checkout/${session.id}/pay`, { card: "visa" });
    expect(page.status).toBe(400);
    expect(await page.text()).toContain("This checkout session is expired");
    expect((await stripe.subscriptions.list({ customer: customer.id })).data).toHaveLength(0);
    await expect(stripe.checkout.sessions.expire(session.id)).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      message: expect.stringMatching(/status in \["open"\] can be expired/),
    });
    const { session: paid } = await subscriptionSession(customer.id);
    await submit(`${emulator.url}/checkout/${paid.id}/pay`, { card: "visa" });
    await expect(stripe.checkout.sessions.expire(paid.id)).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
    });
    const events = await stripe.events.list({ type: "checkout.session.expired" });
    expect(events.data.map((e) => (e.data.object as Stripe.Checkout.Session).id)).toContain(session.id);
  });

  it("redirects to cancel_url on cancel", async () => {
    const { session } = await subscriptionSession();
    const response = await submit(`${emulator.url}/checkout/${session.id}/cancel`, {});
    expect(response.headers.get("location")).toBe("http://localhost:3000/billing/cancel");
  });

  it("saves a card as the customer's invoice default in setup mode", async () => {
    const customer = await stripe.customers.create({ email: "fix@minutely.test" });
    const session = await stripe.checkout.sessions.create({
      mode: "setup",
      customer: customer.id,
      currency: "usd",
      success_url: "http://localhost:3000/billing?setup={CHECKOUT_SESSION_ID}",
      cancel_url: "http://localhost:3000/billing",
    });
    const response = await submit(`${emulator.url}/checkout/${session.id}/pay`, { card: "mastercard" });
    expect(response.status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(session.id, {
      expand: ["setup_intent.payment_method"],
    });
    const setupIntent = done.setup_intent as Stripe.SetupIntent;
    expect(setupIntent.status).toBe("succeeded");
    const pm = setupIntent.payment_method as Stripe.PaymentMethod;
    expect(pm.card?.brand).toBe("mastercard");
    const updated = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    expect(updated.invoice_settings.default_payment_method).toBe(pm.id);
  });

  it("serves hosted invoice pages and a PDF", async () => {
    const customer = await stripe.customers.create({ email: "inv@minutely.test" });
    const { session } = await subscriptionSession(customer.id);
    await submit(`${emulator.url}/checkout/${session.id}/pay`, { card: "visa" });
    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ["invoice"] });
    const invoice = done.invoice as Stripe.Invoice;
    const page = await fetch(invoice.hosted_invoice_url ?? "").then((r) => r.text());
    expect(page).toContain(invoice.number ?? "missing");
    const pdf = await fetch(invoice.invoice_pdf ?? "");
    expect(pdf.headers.get("content-type")).toBe("application/pdf");
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe("%PDF-");
  });
});

async function oneTimePrice(amount = 1500, currency = "usd") {
  return stripe.prices.create({ product_data: { name: "Call minutes pack" }, currency, unit_amount: amount });
}

describe("hosted checkout in payment mode", () => {
  it("charges the discounted total a coupon leaves, as amount_total says", async () => {
    const price = await oneTimePrice();
    const coupon = await stripe.coupons.create({ percent_off: 25, duration: "once" });
    const session = await stripe.checkout.sessions.create({
      mode: "payment",
      customer_email: "coupon@minutely.test",
      line_items: [{ price: price.id, quantity: 2 }],
      discounts: [{ coupon: coupon.id }],
      success_url: "http://localhost:3000/done",
    });
    expect(session.amount_total).toBe(2250);
    const page = await fetch(session.url ?? "").then((r) => r.text());
    expect(page).toContain("Pay $22.50");
    await submit(`${emulator.url}/checkout/${session.id}/pay`, { card: "visa", name: "Coupon" });
    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ["payment_intent"] });
    expect((done.payment_intent as Stripe.PaymentIntent).amount).toBe(2250);
  });

  it("charges one-time prices as a guest, with payment_intent_data, and sends the payment events", async () => {
    const price = await oneTimePrice();
    expect(price.type).toBe("one_time");
    const session = await stripe.checkout.sessions.create({
      mode: "payment",
      customer_email: "guest@minutely.test",
      line_items: [{ price: price.id, quantity: 2 }],
      payment_intent_data: { description: "2 packs", metadata: { order: "ord_1" } },
      success_url: "http://localhost:3000/done?s={CHECKOUT_SESSION_ID}",
    });
    expect(session).toMatchObject({
      mode: "payment",
      amount_total: 3000,
      payment_intent: null,
      customer_creation: "if_required",
    });
    const page = await fetch(session.url ?? "").then((r) => r.text());
    expect(page).toContain("Pay $30.00");
    const response = await submit(`${emulator.url}/checkout/${session.id}/pay`, {
      card: "visa",
      name: "Guest",
    });
    expect(response.status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ["payment_intent"] });
    expect(done).toMatchObject({ status: "complete", payment_status: "paid", customer: null });
    expect(done.customer_details).toMatchObject({ email: "guest@minutely.test", name: "Guest" });
    const pi = done.payment_intent as Stripe.PaymentIntent;
    expect(pi).toMatchObject({
      status: "succeeded",
      amount: 3000,
      description: "2 packs",
      metadata: { order: "ord_1" },
      customer: null,
    });
    const types = (await stripe.events.list({ limit: 20 })).data.map((e) => e.type);
    expect(types.slice(0, 4).reverse()).toEqual([
      "payment_intent.created",
      "charge.succeeded",
      "payment_intent.succeeded",
      "checkout.session.completed",
    ]);
  });

  it("creates a customer with customer_creation=always and saves the card with setup_future_usage", async () => {
    const price = await oneTimePrice(900, "eur");
    const always = await stripe.checkout.sessions.create({
      mode: "payment",
      customer_creation: "always",
      line_items: [{ price: price.id }],
      success_url: "http://localhost:3000/done",
    });
    await submit(`${emulator.url}/checkout/${always.id}/pay`, {
      card: "visa",
      email: "always@minutely.test",
    });
    const paid = await stripe.checkout.sessions.retrieve(always.id);
    expect(paid.customer).toMatch(/^cus_/);
    expect(paid.customer_creation).toBe("always");

    const customer = await stripe.customers.create({ email: "save@minutely.test" });
    const save = await stripe.checkout.sessions.create({
      mode: "payment",
      customer: customer.id,
      line_items: [{ price: price.id }],
      payment_intent_data: { setup_future_usage: "off_session" },
      success_url: "http://localhost:3000/done",
    });
    await submit(`${emulator.url}/checkout/${save.id}/pay`, { card: "mastercard" });
    const saved = (await stripe.customers.listPaymentMethods(customer.id)).data;
    expect(saved.map((pm) => pm.card?.brand)).toEqual(["mastercard"]);
    const pi = await stripe.paymentIntents.retrieve(
      String((await stripe.checkout.sessions.retrieve(save.id)).payment_intent),
    );
    expect(pi).toMatchObject({ setup_future_usage: "off_session", customer: customer.id, currency: "eur" });
  });

  it("keeps the session open and creates nothing on a decline", async () => {
    const price = await oneTimePrice();
    const session = await stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [{ price: price.id }],
      success_url: "http://localhost:3000/done",
    });
    const response = await submit(`${emulator.url}/checkout/${session.id}/pay`, {
      card: "insufficient-funds",
    });
    expect(response.status).toBe(402);
    expect(await response.text()).toContain("Your card has insufficient funds.");
    expect(await stripe.checkout.sessions.retrieve(session.id)).toMatchObject({
      status: "open",
      payment_intent: null,
    });
  });

  it("refuses recurring prices, subscription-only and payment-only parameters where Stripe does", async () => {
    const recurring = await stripe.prices.create({
      product_data: { name: "Monthly" },
      currency: "usd",
      unit_amount: 1000,
      recurring: { interval: "month" },
    });
    await expect(
      stripe.checkout.sessions.create({
        mode: "payment",
        line_items: [{ price: recurring.id }],
        success_url: "http://localhost:3000/done",
      }),
    ).rejects.toMatchObject({ param: "line_items[0][price]" });
    await expect(
      stripe.checkout.sessions.create({
        mode: "subscription",
        customer_creation: "always",
        line_items: [{ price: recurring.id }],
        success_url: "http://localhost:3000/done",
      }),
    ).rejects.toMatchObject({ param: "customer_creation" });
    await expect(
      stripe.checkout.sessions.create({
        mode: "subscription",
        payment_intent_data: { description: "x" },
        line_items: [{ price: recurring.id }],
        success_url: "http://localhost:3000/done",
      }),
    ).rejects.toMatchObject({ param: "payment_intent_data" });
    const price = await oneTimePrice();
    await expect(
      stripe.checkout.sessions.create({
        mode: "payment",
        line_items: [{ price: price.id }],
        payment_intent_data: { capture_method: "manual" },
        success_url: "http://localhost:3000/done",
      }),
    ).rejects.toMatchObject({ param: "payment_intent_data[capture_method]" });
  });
});
