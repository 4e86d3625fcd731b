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
