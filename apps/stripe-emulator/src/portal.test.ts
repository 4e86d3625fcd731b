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

async function subscribedCustomer() {
  const customer = await stripe.customers.create({
    email: "portal@minutely.test",
    name: "Ada Lovelace",
    address: { line1: "1 Analytical St", city: "London", postal_code: "N1 9GU", country: "GB" },
    payment_method: "pm_card_visa",
    invoice_settings: { default_payment_method: "pm_card_visa" },
  });
  const price = await stripe.prices.create({
    product_data: { name: "Team plan" },
    currency: "usd",
    unit_amount: 4900,
    recurring: { interval: "month" },
  });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
  return { customer, sub };
}

/** Every `n 0 obj` the cross-reference table points at is where it says. */
function expectValidXref(pdf: Buffer): void {
  const text = pdf.toString("latin1");
  const start = Number(/startxref\n(\d+)\n%%EOF/.exec(text)?.[1]);
  expect(text.slice(start, start + 4)).toBe("xref");
  const entries = [...text.slice(start).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]));
  expect(entries.length).toBeGreaterThan(3);
  entries.forEach((offset, index) => {
    expect(text.slice(offset, offset + `${index + 1} 0 obj`.length)).toBe(`${index + 1} 0 obj`);
  });
}

describe("customer portal", () => {
  it("creates a session whose page lists subscriptions, card and invoices", async () => {
    const { customer, sub } = await subscribedCustomer();
    const session = await stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: "http://localhost:3000/account",
    });
    expect(session).toMatchObject({
      object: "billing_portal.session",
      customer: customer.id,
      return_url: "http://localhost:3000/account",
      url: `${emulator.url}/billing_portal/${session.id}`,
    });
    const page = await fetch(session.url).then((r) => r.text());
    expect(page).toContain("Stripe emulator — test mode, not Stripe");
    expect(page).toContain("Team plan");
    expect(page).toContain(`id="cancel-${sub.id}"`);
    expect(page).toContain("visa •••• 4242");
    expect(page).toContain(`/invoices/${String(sub.latest_invoice)}/pdf`);
    expect(page).toContain('id="portal-return" href="http://localhost:3000/account"');
    const types = (await stripe.events.list({ limit: 1 })).data.map((e) => e.type);
    expect(types).toEqual(["billing_portal.session.created"]);
    await expect(stripe.billingPortal.sessions.create({ customer: "cus_nope" })).rejects.toMatchObject({
      statusCode: 404,
      param: "customer",
    });
    await expect(
      stripe.billingPortal.sessions.create({ customer: customer.id, configuration: "bpc_x" }),
    ).rejects.toMatchObject({ param: "configuration" });
  });

  it("cancels at period end and renews from the page, with customer.subscription.updated", async () => {
    const { customer, sub } = await subscribedCustomer();
    const session = await stripe.billingPortal.sessions.create({ customer: customer.id });
    const canceled = await submit(`${session.url}/cancel`, { subscription: sub.id });
    expect(canceled.status).toBe(200);
    expect(await canceled.text()).toContain(`id="renew-${sub.id}"`);
    expect(await stripe.subscriptions.retrieve(sub.id)).toMatchObject({
      cancel_at_period_end: true,
      status: "active",
    });
    const [event] = (await stripe.events.list({ type: "customer.subscription.updated", limit: 1 })).data;
    const previous = event?.data.previous_attributes as { cancel_at_period_end?: boolean } | undefined;
    expect(previous?.cancel_at_period_end).toBe(false);
    await submit(`${session.url}/renew`, { subscription: sub.id });
    expect((await stripe.subscriptions.retrieve(sub.id)).cancel_at_period_end).toBe(false);
    const other = await stripe.customers.create({});
    const otherSession = await stripe.billingPortal.sessions.create({ customer: other.id });
    expect((await submit(`${otherSession.url}/cancel`, { subscription: sub.id })).status).toBe(404);
  });

  it("updates the default card (customer and subscription)", async () => {
    const { customer, sub } = await subscribedCustomer();
    await stripe.subscriptions.update(sub.id, {
      default_payment_method: String(customer.invoice_settings.default_payment_method),
    });
    const session = await stripe.billingPortal.sessions.create({ customer: customer.id });
    const response = await submit(`${session.url}/payment_method`, { card: "mastercard" });
    expect(await response.text()).toContain("mastercard •••• 4444");
    const updated = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    const pm = await stripe.paymentMethods.retrieve(String(updated.invoice_settings.default_payment_method));
    expect(pm.card?.brand).toBe("mastercard");
    expect((await stripe.subscriptions.retrieve(sub.id)).default_payment_method).toBe(pm.id);
    const declined = await submit(`${session.url}/payment_method`, { card: "declined" });
    expect(declined.status).toBe(402);
    expect(await declined.text()).toContain("Your card was declined.");
  });
});

describe("invoice and credit note PDFs", () => {
  it("shows seller, buyer, number, dates, lines and totals in a well-formed PDF", async () => {
    const { sub } = await subscribedCustomer();
    const invoice = await stripe.invoices.retrieve(String(sub.latest_invoice));
    const response = await fetch(invoice.invoice_pdf ?? "");
    expect(response.headers.get("content-type")).toBe("application/pdf");
    const pdf = Buffer.from(await response.arrayBuffer());
    expectValidXref(pdf);
    const text = pdf.toString("latin1");
    for (const expected of [
      `(Invoice ${invoice.number})`,
      "(Minutely \\(Stripe emulator\\))",
      "(Ada Lovelace)",
      "(portal@minutely.test)",
      "(1 Analytical St)",
      "(Date of issue)",
      "(1 x Team plan \\(at $49.00 / month\\))",
      "(Amount due)",
      "($49.00)",
    ]) {
      expect(text).toContain(expected);
    }
    const cn = await stripe.creditNotes.create({ invoice: invoice.id, amount: 900, memo: "Sorry" });
    const cnPdf = Buffer.from(await (await fetch(cn.pdf)).arrayBuffer());
    expectValidXref(cnPdf);
    expect(cnPdf.toString("latin1")).toContain(`(Credit note ${cn.number})`);
    expect(cnPdf.toString("latin1")).toContain("($9.00)");
  });

  it("shows what was refunded of the invoice's payment", async () => {
    const { sub } = await subscribedCustomer();
    const invoice = await stripe.invoices.retrieve(String(sub.latest_invoice), { expand: ["payments"] });
    const paymentIntent = String(invoice.payments?.data[0]?.payment.payment_intent);
    const before = Buffer.from(await (await fetch(invoice.invoice_pdf ?? "")).arrayBuffer()).toString(
      "latin1",
    );
    expect(before).not.toContain("(Refunded)");
    await stripe.refunds.create({ payment_intent: paymentIntent, amount: 1200 });
    const pdf = Buffer.from(await (await fetch(invoice.invoice_pdf ?? "")).arrayBuffer());
    expectValidXref(pdf);
    expect(pdf.toString("latin1")).toContain("(Refunded)");
    expect(pdf.toString("latin1")).toContain("(-$12.00)");
  });
});
