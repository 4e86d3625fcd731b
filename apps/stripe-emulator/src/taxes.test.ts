/** Tax rates, customer tax IDs, and tax on invoices, subscriptions, previews and Checkout (issue 22). */
import Stripe from "stripe";
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
