/** Tax rates, customer tax IDs, and tax on invoices, subscriptions, previews and Checkout (issue 22). */
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StripeEmulator } from "./server.ts";
import { invoiceInvariantViolations, startTestEmulator } from "./testing.ts";

let emulator: StripeEmulator;
let stripe: Stripe;
const START = Math.floor(Date.UTC(2032, 0, 15) / 1000);

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(async () => {
  expect(await invoiceInvariantViolations(stripe)).toEqual([]);
  await emulator.close();
});

async function refused(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  return error as Stripe.errors.StripeError;
}

async function eventsOf(type: string, id: string): Promise<Stripe.Event[]> {
  const events = await stripe.events.list({ type, limit: 100 });
  return events.data.filter((e) => (e.data.object as { id?: string }).id === id);
}

describe("tax rates", () => {
  it("creates, retrieves, updates and lists tax rates, with events", async () => {
    const rate = await stripe.taxRates.create({
      display_name: "Sales Tax",
      percentage: 7.25,
      inclusive: false,
      country: "US",
      state: "CA",
      jurisdiction: "US-CA",
      tax_type: "sales_tax",
      metadata: { k: "v" },
    });
    expect(rate).toMatchObject({
      object: "tax_rate",
      display_name: "Sales Tax",
      percentage: 7.25,
      effective_percentage: 7.25,
      inclusive: false,
      active: true,
      country: "US",
      state: "CA",
      jurisdiction: "US-CA",
      tax_type: "sales_tax",
      rate_type: "percentage",
      metadata: { k: "v" },
    });
    expect(rate.id).toMatch(/^txr_/);
    expect(await stripe.taxRates.retrieve(rate.id)).toMatchObject({ id: rate.id, percentage: 7.25 });

    const archived = await stripe.taxRates.update(rate.id, { active: false, display_name: "Old tax" });
    expect(archived).toMatchObject({ active: false, display_name: "Old tax", percentage: 7.25 });
    const inclusive = await stripe.taxRates.create({ display_name: "VAT", percentage: 19, inclusive: true });

    const active = await stripe.taxRates.list({ active: true, limit: 100 });
    expect(active.data.map((r) => r.id)).toContain(inclusive.id);
    expect(active.data.map((r) => r.id)).not.toContain(rate.id);
    const incl = await stripe.taxRates.list({ inclusive: true, limit: 100 });
    expect(incl.data.every((r) => r.inclusive)).toBe(true);

    expect(await eventsOf("tax_rate.created", rate.id)).toHaveLength(1);
    const updated = await eventsOf("tax_rate.updated", rate.id);
    expect(updated[0]?.data.previous_attributes).toMatchObject({ active: true, display_name: "Sales Tax" });
  });

  it("refuses bad percentages, missing fields, unknown tax types and changes to percentage", async () => {
    const bad = await refused(
      stripe.taxRates.create({ display_name: "X", percentage: 101, inclusive: false }),
    );
    expect(bad.param).toBe("percentage");
    const missing = await refused(
      stripe.taxRates.create({ display_name: "X", percentage: 5 } as Stripe.TaxRateCreateParams),
    );
    expect(missing).toMatchObject({ code: "parameter_missing", param: "inclusive" });
    const type = await refused(
      stripe.taxRates.create({ display_name: "X", percentage: 5, inclusive: false, tax_type: "bogus" }),
    );
    expect(type.param).toBe("tax_type");
    const rate = await stripe.taxRates.create({ display_name: "X", percentage: 5, inclusive: false });
    const change = await refused(
      stripe.taxRates.update(rate.id, { percentage: 6 } as Stripe.TaxRateUpdateParams),
    );
    expect(change).toMatchObject({ code: "parameter_unknown", param: "percentage" });
    const unknown = await stripe.taxRates.retrieve("txr_missing").catch((e: unknown) => e);
    expect(unknown).toMatchObject({ statusCode: 404, code: "resource_missing" });
  });
});

describe("customer tax IDs and tax status", () => {
  it("creates, retrieves, lists and deletes tax ids, verifying the verifiable types", async () => {
    const customer = await stripe.customers.create({
      email: "vat@minutely.test",
      tax_exempt: "reverse",
      tax_id_data: [{ type: "eu_vat", value: "DE123456789" }],
    });
    expect(customer.tax_exempt).toBe("reverse");
    const listed = await stripe.customers.listTaxIds(customer.id);
    expect(listed.data).toHaveLength(1);
    expect(listed.data[0]).toMatchObject({
      object: "tax_id",
      type: "eu_vat",
      value: "DE123456789",
      country: "DE",
      customer: customer.id,
      owner: { type: "customer", customer: customer.id },
      verification: { status: "verified" },
    });

    const ein = await stripe.customers.createTaxId(customer.id, { type: "us_ein", value: "12-3456789" });
    expect(ein).toMatchObject({ type: "us_ein", country: "US", verification: { status: "unavailable" } });
    const failing = await stripe.customers.createTaxId(customer.id, { type: "gb_vat", value: "GB111111111" });
    // Created pending, as on Stripe; the verification result follows as customer.tax_id.updated.
    expect(failing.verification?.status).toBe("pending");
    expect((await stripe.customers.retrieveTaxId(customer.id, failing.id)).verification?.status).toBe(
      "unverified",
    );
    const updated = await eventsOf("customer.tax_id.updated", failing.id);
    expect(updated[0]?.data.previous_attributes).toMatchObject({ verification: { status: "pending" } });
    expect(await eventsOf("customer.tax_id.created", failing.id)).toHaveLength(1);

    const withIds = await stripe.customers.retrieve(customer.id, { expand: ["tax_ids"] });
    expect((withIds as Stripe.Customer).tax_ids?.data.map((t) => t.id)).toContain(ein.id);

    const deleted = await stripe.customers.deleteTaxId(customer.id, ein.id);
    expect(deleted).toMatchObject({ id: ein.id, object: "tax_id", deleted: true });
    expect(await eventsOf("customer.tax_id.deleted", ein.id)).toHaveLength(1);
    const gone = await stripe.customers.retrieveTaxId(customer.id, ein.id).catch((e: unknown) => e);
    expect(gone).toMatchObject({ statusCode: 404, code: "resource_missing" });
    expect((await stripe.customers.listTaxIds(customer.id)).data).toHaveLength(2);

    const exempt = await stripe.customers.update(customer.id, { tax_exempt: "exempt" });
    expect(exempt.tax_exempt).toBe("exempt");
  });

  it("refuses malformed values per type with tax_id_invalid naming value, creating nothing", async () => {
    const customer = await stripe.customers.create({ email: "bad-vat@minutely.test" });
    for (const [type, value] of [
      ["eu_vat", "DE12345678"],
      ["eu_vat", "FR123456789"],
      ["eu_vat", "NL123456789B1"],
      ["eu_vat", "XX123456789"],
      ["gb_vat", "GB12345"],
      ["us_ein", "123-456789"],
      ["au_abn", "1234567891"],
      ["ca_bn", "12345678A"],
    ] as const) {
      const error = await refused(stripe.customers.createTaxId(customer.id, { type, value }));
      expect(error, `${type} ${value}`).toMatchObject({ code: "tax_id_invalid", param: "value" });
    }
    for (const [type, value] of [
      ["eu_vat", "FRAB123456789"],
      ["eu_vat", "NL123456789B01"],
      ["eu_vat", "IE1234567WA"],
      ["eu_vat", "ESA1234567Z"],
      ["au_abn", "12 345 678 912"],
      ["ca_gst_hst", "123456789RT0002"],
    ] as const) {
      const ok = await stripe.customers.createTaxId(customer.id, { type, value });
      expect(ok.type).toBe(type);
    }
    const before = (await stripe.customers.list({ limit: 100 })).data.length;
    const onCreate = await refused(
      stripe.customers.create({ tax_id_data: [{ type: "eu_vat", value: "DE1" }] }),
    );
    expect(onCreate).toMatchObject({ code: "tax_id_invalid", param: "tax_id_data[0][value]" });
    expect((await stripe.customers.list({ limit: 100 })).data.length).toBe(before);
    const badType = await refused(
      stripe.customers.createTaxId(customer.id, { type: "xx_vat" as "eu_vat", value: "1" }),
    );
    expect(badType.param).toBe("type");
    const exempt = await refused(stripe.customers.update(customer.id, { tax_exempt: "maybe" as "exempt" }));
    expect(exempt.param).toBe("tax_exempt");
  });
});

async function fixture(address?: Stripe.AddressParam, extra: Partial<Stripe.CustomerCreateParams> = {}) {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: START });
  const customer = await stripe.customers.create({
    test_clock: clock.id,
    payment_method: "pm_card_visa",
    invoice_settings: { default_payment_method: "pm_card_visa" },
    ...(address ? { address } : {}),
    ...extra,
  });
  const product = await stripe.products.create({ name: "Minutes" });
  const price = await stripe.prices.create({
    product: product.id,
    currency: "usd",
    unit_amount: 1000,
    recurring: { interval: "month" },
    tax_behavior: "exclusive",
  });
  return { clock, customer, product, price };
}

function taxOf(taxes: Stripe.InvoiceLineItem.Tax[] | null | undefined) {
  return (taxes ?? []).map((t) => ({
    amount: t.amount,
    taxable_amount: t.taxable_amount,
    tax_behavior: t.tax_behavior,
    taxability_reason: t.taxability_reason,
    tax_rate: t.tax_rate_details?.tax_rate,
  }));
}

describe("tax rates on subscriptions and invoices", () => {
  it("taxes subscription lines at default_tax_rates, or the item's own tax_rates, exclusive and inclusive", async () => {
    const { customer, product, price } = await fixture();
    const vat = await stripe.taxRates.create({ display_name: "VAT", percentage: 20, inclusive: false });
    const included = await stripe.taxRates.create({ display_name: "GST", percentage: 10, inclusive: true });
    const other = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 1100,
      recurring: { interval: "month" },
    });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }, { price: other.id, tax_rates: [included.id] }],
      default_tax_rates: [vat.id],
      expand: ["latest_invoice"],
    });
    expect(sub.default_tax_rates?.map((r) => r.id)).toEqual([vat.id]);
    expect(sub.items.data[1]?.tax_rates?.map((r) => r.id)).toEqual([included.id]);
    const invoice = sub.latest_invoice as Stripe.Invoice;
    const [first, second] = invoice.lines.data;
    expect(taxOf(first?.taxes)).toEqual([
      {
        amount: 200,
        taxable_amount: 1000,
        tax_behavior: "exclusive",
        taxability_reason: "standard_rated",
        tax_rate: vat.id,
      },
    ]);
    // 1100 including 10 %: 100 of it is tax.
    expect(taxOf(second?.taxes)).toEqual([
      {
        amount: 100,
        taxable_amount: 1000,
        tax_behavior: "inclusive",
        taxability_reason: "standard_rated",
        tax_rate: included.id,
      },
    ]);
    expect(invoice).toMatchObject({
      status: "paid",
      subtotal: 2100,
      subtotal_excluding_tax: 2000,
      total_excluding_tax: 2000,
      total: 2300,
      amount_due: 2300,
      amount_paid: 2300,
    });
    expect(taxOf(invoice.total_taxes)).toHaveLength(2);
    const pi = await stripe.paymentIntents.list({ customer: customer.id });
    expect(pi.data[0]?.amount).toBe(2300);
  });

  it("applies discounts before tax, and taxes prorations at the item's rates", async () => {
    const { clock, customer, product, price } = await fixture();
    const vat = await stripe.taxRates.create({ display_name: "VAT", percentage: 20, inclusive: false });
    const coupon = await stripe.coupons.create({ percent_off: 50, duration: "forever" });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id, tax_rates: [vat.id] }],
      discounts: [{ coupon: coupon.id }],
      expand: ["latest_invoice"],
    });
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(taxOf(invoice.lines.data[0]?.taxes)[0]).toMatchObject({ amount: 100, taxable_amount: 500 });
    expect(invoice).toMatchObject({ subtotal: 1000, total_excluding_tax: 500, total: 600, amount_due: 600 });

    const bigger = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 3000,
      recurring: { interval: "month" },
    });
    const t = START + 10 * 86_400;
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: t });
    const preview = await stripe.invoices.createPreview({
      customer: customer.id,
      subscription: sub.id,
      subscription_details: {
        items: [{ id: sub.items.data[0]?.id, price: bigger.id }],
        proration_behavior: "always_invoice",
        proration_date: t,
      },
    });
    const updated = await stripe.subscriptions.update(sub.id, {
      items: [{ id: sub.items.data[0]?.id, price: bigger.id }],
      proration_behavior: "always_invoice",
      proration_date: t,
      expand: ["latest_invoice"],
    });
    const prorated = updated.latest_invoice as Stripe.Invoice;
    for (const line of prorated.lines.data) {
      // Prorations are not discounted; each is taxed at 20 % of its own amount.
      expect(taxOf(line.taxes)[0]?.amount).toBe(Math.round(line.amount * 0.2));
    }
    expect(prorated.total).toBe(prorated.subtotal + Math.round(prorated.subtotal * 0.2));
    expect(preview.total).toBe(prorated.total);
    expect(taxOf(preview.total_taxes)).toEqual(taxOf(prorated.total_taxes));
  });

  it("taxes invoice items at their tax_rates or the invoice's default_tax_rates, and refuses archived rates", async () => {
    const { customer } = await fixture();
    const vat = await stripe.taxRates.create({ display_name: "VAT", percentage: 19, inclusive: false });
    const low = await stripe.taxRates.create({ display_name: "Reduced", percentage: 7, inclusive: false });
    const invoice = await stripe.invoices.create({ customer: customer.id, default_tax_rates: [vat.id] });
    await stripe.invoiceItems.create({
      customer: customer.id,
      invoice: invoice.id,
      amount: 1000,
      currency: "usd",
    });
    const item = await stripe.invoiceItems.create({
      customer: customer.id,
      invoice: invoice.id,
      amount: 2000,
      currency: "usd",
      tax_rates: [low.id],
    });
    expect(item.tax_rates?.map((r) => r.id)).toEqual([low.id]);
    const draft = await stripe.invoices.retrieve(invoice.id);
    expect(draft.default_tax_rates.map((r) => r.id)).toEqual([vat.id]);
    expect(draft.lines.data.map((l) => taxOf(l.taxes)[0]?.amount)).toEqual([190, 140]);
    expect(draft).toMatchObject({ subtotal: 3000, total: 3330, amount_due: 3330 });
    const paid = await stripe.invoices.pay(invoice.id);
    expect(paid).toMatchObject({ status: "paid", total: 3330, amount_paid: 3330 });
    // Frozen at finalization: archiving the rate changes nothing.
    await stripe.taxRates.update(vat.id, { active: false });
    expect((await stripe.invoices.retrieve(invoice.id)).total).toBe(3330);
    const archived = await refused(
      stripe.invoiceItems.create({
        customer: customer.id,
        amount: 100,
        currency: "usd",
        tax_rates: [vat.id],
      }),
    );
    expect(archived.param).toBe("tax_rates[0]");
    const unknown = await stripe.subscriptions
      .create({
        customer: customer.id,
        items: [{ price: (await fixture()).price.id }],
        default_tax_rates: ["txr_nope"],
      })
      .catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: "resource_missing", param: "default_tax_rates[0]" });
  });
});

describe("automatic tax", () => {
  it("taxes at the customer's location: US state, inclusive EU VAT, a country where it does not collect", async () => {
    const ca = await fixture({ country: "US", state: "CA", postal_code: "94103" });
    const sub = await stripe.subscriptions.create({
      customer: ca.customer.id,
      items: [{ price: ca.price.id, quantity: 2 }],
      automatic_tax: { enabled: true },
      expand: ["latest_invoice"],
    });
    expect(sub.automatic_tax).toMatchObject({ enabled: true, liability: { type: "self" } });
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice.automatic_tax).toMatchObject({ enabled: true, status: "complete" });
    expect(taxOf(invoice.lines.data[0]?.taxes)).toEqual([
      {
        amount: 145,
        taxable_amount: 2000,
        tax_behavior: "exclusive",
        taxability_reason: "standard_rated",
        tax_rate: "txr_auto_us_ca",
      },
    ]);
    expect(invoice).toMatchObject({ total: 2145, amount_paid: 2145 });
    const rate = await stripe.taxRates.retrieve("txr_auto_us_ca");
    expect(rate).toMatchObject({
      percentage: 7.25,
      country: "US",
      state: "CA",
      active: false,
      tax_type: "sales_tax",
    });

    const de = await fixture({ country: "DE", postal_code: "10115", city: "Berlin" });
    const gross = await stripe.prices.create({
      product: de.product.id,
      currency: "usd",
      unit_amount: 1190,
      recurring: { interval: "month" },
      tax_behavior: "inclusive",
    });
    const deSub = await stripe.subscriptions.create({
      customer: de.customer.id,
      items: [{ price: gross.id }],
      automatic_tax: { enabled: true },
      expand: ["latest_invoice"],
    });
    const deInvoice = deSub.latest_invoice as Stripe.Invoice;
    expect(taxOf(deInvoice.lines.data[0]?.taxes)[0]).toMatchObject({
      amount: 190,
      taxable_amount: 1000,
      tax_behavior: "inclusive",
      tax_rate: "txr_auto_de_inclusive",
    });
    expect(deInvoice).toMatchObject({
      subtotal: 1190,
      total: 1190,
      total_excluding_tax: 1000,
      amount_paid: 1190,
    });

    const br = await fixture({ country: "BR" });
    const brSub = await stripe.subscriptions.create({
      customer: br.customer.id,
      items: [{ price: br.price.id }],
      automatic_tax: { enabled: true },
      expand: ["latest_invoice"],
    });
    const brInvoice = brSub.latest_invoice as Stripe.Invoice;
    expect(taxOf(brInvoice.lines.data[0]?.taxes)[0]).toMatchObject({
      amount: 0,
      taxability_reason: "not_collecting",
    });
    expect(brInvoice.total).toBe(1000);
  });

  it("follows the customer's tax_exempt: exempt and reverse charge are taxed at 0", async () => {
    for (const [exempt, reason] of [
      ["exempt", "customer_exempt"],
      ["reverse", "reverse_charge"],
    ] as const) {
      const { customer, price } = await fixture({ country: "GB" }, { tax_exempt: exempt });
      const sub = await stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: price.id }],
        automatic_tax: { enabled: true },
        expand: ["latest_invoice"],
      });
      const invoice = sub.latest_invoice as Stripe.Invoice;
      expect(taxOf(invoice.lines.data[0]?.taxes)[0]).toMatchObject({ amount: 0, taxability_reason: reason });
      expect(invoice).toMatchObject({ total: 1000, customer_tax_exempt: exempt });
    }
  });

  it("needs a location: subscriptions are refused, invoices wait in requires_location_inputs", async () => {
    const { customer, price } = await fixture();
    const error = await refused(
      stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: price.id }],
        automatic_tax: { enabled: true },
      }),
    );
    expect(error.code).toBe("customer_tax_location_invalid");
    expect((await stripe.subscriptions.list({ customer: customer.id })).data).toHaveLength(0);
    const usWithoutState = await stripe.customers.update(customer.id, { address: { country: "US" } });
    expect(usWithoutState.address?.country).toBe("US");

    const invoice = await stripe.invoices.create({ customer: customer.id, automatic_tax: { enabled: true } });
    await stripe.invoiceItems.create({
      customer: customer.id,
      invoice: invoice.id,
      amount: 500,
      currency: "usd",
    });
    const draft = await stripe.invoices.retrieve(invoice.id);
    expect(draft.automatic_tax).toMatchObject({ enabled: true, status: "requires_location_inputs" });
    const finalize = await refused(stripe.invoices.finalizeInvoice(invoice.id));
    expect(finalize.code).toBe("customer_tax_location_invalid");
    expect((await stripe.invoices.retrieve(invoice.id)).status).toBe("draft");

    await stripe.customers.update(customer.id, {
      address: { country: "US", state: "TX", postal_code: "73301" },
    });
    const finalized = await stripe.invoices.finalizeInvoice(invoice.id);
    expect(finalized.automatic_tax.status).toBe("complete");
    expect(finalized.total).toBe(531);
    const rates = await refused(
      stripe.invoices.create({
        customer: customer.id,
        automatic_tax: { enabled: true },
        default_tax_rates: [
          (await stripe.taxRates.create({ display_name: "X", percentage: 1, inclusive: false })).id,
        ],
      }),
    );
    expect(rates.param).toBe("default_tax_rates");
  });

  it("previews a new subscription with automatic tax exactly as it is then invoiced", async () => {
    const { customer, price } = await fixture({ country: "US", state: "WA", postal_code: "98101" });
    const preview = await stripe.invoices.createPreview({
      customer: customer.id,
      automatic_tax: { enabled: true },
      subscription_details: { items: [{ price: price.id, quantity: 3 }] },
    });
    expect(preview.automatic_tax).toMatchObject({ enabled: true, status: "complete" });
    expect(preview.total).toBe(3000 + 195);
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id, quantity: 3 }],
      automatic_tax: { enabled: true },
      expand: ["latest_invoice"],
    });
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice.total).toBe(preview.total);
    expect(taxOf(invoice.total_taxes)).toEqual(taxOf(preview.total_taxes));

    const nowhere = await fixture();
    const refusedPreview = await refused(
      stripe.invoices.createPreview({
        customer: nowhere.customer.id,
        automatic_tax: { enabled: true },
        subscription_details: { items: [{ price: nowhere.price.id }] },
      }),
    );
    expect(refusedPreview.code).toBe("customer_tax_location_invalid");
  });

  it("renews with tax, and finalizes a renewal without tax when the location went away", async () => {
    const { clock, customer, price } = await fixture({ country: "NZ" });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      automatic_tax: { enabled: true },
    });
    const end = sub.items.data[0]?.current_period_end ?? 0;
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: end + 60 });
    const renewal = (await stripe.invoices.list({ subscription: sub.id })).data[0];
    expect(renewal).toMatchObject({ billing_reason: "subscription_cycle", total: 1150, status: "paid" });

    await stripe.customers.update(customer.id, { address: "" });
    const next = (await stripe.subscriptions.retrieve(sub.id)).items.data[0]?.current_period_end ?? 0;
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: next + 60 });
    const untaxed = (await stripe.invoices.list({ subscription: sub.id })).data[0];
    expect(untaxed?.automatic_tax).toMatchObject({
      enabled: false,
      disabled_reason: "finalization_requires_location_inputs",
    });
    expect(untaxed).toMatchObject({ total: 1000, status: "paid" });
  });
});

function submit(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
    redirect: "manual",
  });
}

describe("automatic tax of a one-off purchase, previewed", () => {
  it("previews invoice_items of one-time prices with the customer's tax, and refuses a recurring price", async () => {
    const customer = await stripe.customers.create({ address: { country: "DE" } });
    const oneTime = await stripe.prices.create({
      product_data: { name: "Minute pack" },
      currency: "usd",
      unit_amount: 2500,
    });
    const preview = await stripe.invoices.createPreview({
      customer: customer.id,
      automatic_tax: { enabled: true },
      invoice_items: [{ price: oneTime.id, metadata: { purpose: "tax" } }],
    });
    const line = preview.lines.data.find((l) => l.metadata?.purpose === "tax");
    expect(line).toMatchObject({ amount: 2500, description: "Minute pack" });
    expect(line?.taxes?.[0]).toMatchObject({ amount: 475, taxable_amount: 2500 });
    expect(preview).toMatchObject({ subtotal: 2500, total: 2975, amount_due: 2975 });
    // A preview creates nothing: no invoice, no invoice item.
    expect((await stripe.invoiceItems.list({ customer: customer.id })).data).toEqual([]);
    expect((await stripe.invoices.list({ customer: customer.id })).data).toEqual([]);
    const monthly = await stripe.prices.create({
      product_data: { name: "Plan" },
      currency: "usd",
      unit_amount: 1000,
      recurring: { interval: "month" },
    });
    const refused = await stripe.invoices
      .createPreview({ customer: customer.id, invoice_items: [{ price: monthly.id }] })
      .catch((error: unknown) => error);
    expect((refused as Stripe.errors.StripeInvalidRequestError).param).toBe("invoice_items[0][price]");
  });
});

describe("automatic tax in Checkout", () => {
  it("asks a guest for the billing address, shows the tax and charges it (payment mode)", async () => {
    const price = await stripe.prices.create({
      product_data: { name: "Minute pack" },
      currency: "usd",
      unit_amount: 2000,
      tax_behavior: "exclusive",
    });
    const session = await stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [{ price: price.id, quantity: 1 }],
      automatic_tax: { enabled: true },
      customer_creation: "always",
      success_url: "http://localhost:3000/done",
    });
    expect(session.automatic_tax).toMatchObject({ enabled: true, status: "requires_location_inputs" });
    expect(session.amount_total).toBe(2000);
    const page = await fetch(session.url ?? "").then((r) => r.text());
    expect(page).toContain('id="address-country"');
    expect(page).toContain('id="checkout-tax"');

    const noAddress = await submit(`${session.url}/pay`, { card: "visa", email: "guest@minutely.test" });
    expect(noAddress.status).toBe(400);
    expect(await noAddress.text()).toContain("location");

    const paid = await submit(`${session.url}/pay`, {
      card: "visa",
      email: "guest@minutely.test",
      address_country: "gb",
      address_postal_code: "N1 9GU",
    });
    expect(paid.status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ["payment_intent"] });
    expect(done).toMatchObject({
      status: "complete",
      amount_subtotal: 2000,
      amount_total: 2400,
      total_details: { amount_tax: 400 },
      automatic_tax: { enabled: true, status: "complete" },
    });
    expect((done.payment_intent as Stripe.PaymentIntent).amount).toBe(2400);
    const customer = await stripe.customers.retrieve(String(done.customer));
    expect((customer as Stripe.Customer).address?.country).toBe("GB");
    const items = await stripe.checkout.sessions.listLineItems(session.id);
    expect(items.data[0]).toMatchObject({ amount_subtotal: 2000, amount_tax: 400, amount_total: 2400 });
  });

  it("needs customer_update[address]=auto for an existing customer without an address, then saves it", async () => {
    const customer = await stripe.customers.create({ email: "noaddress@minutely.test" });
    const price = await stripe.prices.create({
      product_data: { name: "Plan" },
      currency: "usd",
      unit_amount: 1000,
      recurring: { interval: "month" },
    });
    const base = {
      mode: "subscription" as const,
      customer: customer.id,
      line_items: [{ price: price.id, quantity: 1 }],
      automatic_tax: { enabled: true },
      success_url: "http://localhost:3000/done",
    };
    const refused = await stripe.checkout.sessions.create(base).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((refused as Stripe.errors.StripeInvalidRequestError).param).toBe("customer_update[address]");
    const guest = await stripe.checkout.sessions
      .create({ ...base, customer: undefined, customer_update: { address: "auto" } })
      .catch((error: unknown) => error);
    expect((guest as Stripe.errors.StripeInvalidRequestError).param).toBe("customer_update");
    const session = await stripe.checkout.sessions.create({ ...base, customer_update: { address: "auto" } });
    const page = await fetch(session.url ?? "").then((r) => r.text());
    expect(page).toContain('id="address-country"');
    const paid = await submit(`${session.url}/pay`, { card: "visa", address_country: "DE" });
    expect(paid.status).toBe(303);
    const saved = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    expect(saved.address?.country).toBe("DE");
    const done = await stripe.checkout.sessions.retrieve(session.id);
    expect(done.total_details?.amount_tax).toBe(190);
  });

  it("creates the subscription with automatic tax for a customer with an address", async () => {
    const customer = await stripe.customers.create({
      email: "tx@minutely.test",
      address: { country: "US", state: "TX", postal_code: "73301" },
    });
    const price = await stripe.prices.create({
      product_data: { name: "Plan" },
      currency: "usd",
      unit_amount: 1000,
      recurring: { interval: "month" },
      tax_behavior: "exclusive",
    });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price: price.id, quantity: 1 }],
      automatic_tax: { enabled: true },
      success_url: "http://localhost:3000/done",
    });
    expect(session).toMatchObject({ amount_total: 1063, total_details: { amount_tax: 63 } });
    const page = await fetch(session.url ?? "").then((r) => r.text());
    expect(page).not.toContain('id="address-country"');
    expect((await submit(`${session.url}/pay`, { card: "visa" })).status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(session.id);
    const sub = await stripe.subscriptions.retrieve(String(done.subscription), {
      expand: ["latest_invoice"],
    });
    expect(sub.automatic_tax.enabled).toBe(true);
    expect((sub.latest_invoice as Stripe.Invoice).amount_paid).toBe(1063);
    const setup = await refused(
      stripe.checkout.sessions.create({
        mode: "setup",
        customer: customer.id,
        currency: "usd",
        automatic_tax: { enabled: true },
        success_url: "http://localhost:3000/done",
      }),
    );
    expect(setup.param).toBe("automatic_tax");
  });
});

describe("credit notes, PDFs and hosted pages of taxed invoices", () => {
  it("credits the line's share of its tax, and shows the real tax on the invoice page and PDF", async () => {
    const { customer, price } = await fixture();
    const vat = await stripe.taxRates.create({ display_name: "VAT", percentage: 20, inclusive: false });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      default_tax_rates: [vat.id],
      expand: ["latest_invoice"],
    });
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice.total).toBe(1200);
    const line = invoice.lines.data[0];
    const half = await stripe.creditNotes.create({
      invoice: invoice.id,
      lines: [{ type: "invoice_line_item", invoice_line_item: line?.id ?? "", amount: 500 }],
    });
    expect(half).toMatchObject({ subtotal: 500, total: 600, amount: 600, total_excluding_tax: 500 });
    expect(taxOf(half.total_taxes)).toEqual([
      {
        amount: 100,
        taxable_amount: 500,
        tax_behavior: "exclusive",
        taxability_reason: "standard_rated",
        tax_rate: vat.id,
      },
    ]);
    expect(taxOf(half.lines.data[0]?.taxes)[0]?.amount).toBe(100);
    expect(half.lines.data[0]?.tax_rates.map((r) => r.id)).toEqual([vat.id]);
    const rest = await stripe.creditNotes.create({
      invoice: invoice.id,
      lines: [{ type: "invoice_line_item", invoice_line_item: line?.id ?? "", amount: 500 }],
    });
    expect(rest.amount).toBe(600);
    const tooMuch = await refused(stripe.creditNotes.create({ invoice: invoice.id, amount: 1 }));
    expect(tooMuch.param).toBe("amount");

    const page = await fetch(invoice.hosted_invoice_url ?? "").then((r) => r.text());
    expect(page).toContain("VAT (20%)");
    expect(page).toMatch(/id="invoice-tax-0">\$2\.00/);
    expect(page).toMatch(/id="invoice-total">\$12\.00/);
    const pdf = Buffer.from(await (await fetch(invoice.invoice_pdf ?? "")).arrayBuffer()).toString("latin1");
    expect(pdf).toContain("(VAT \\(20%\\))");
    expect(pdf).toContain("($2.00)");
    expect(pdf).toContain("($12.00)");
    const cnPdf = Buffer.from(await (await fetch(half.pdf)).arrayBuffer()).toString("latin1");
    expect(cnPdf).toContain("(VAT \\(20%\\))");
  });
});
