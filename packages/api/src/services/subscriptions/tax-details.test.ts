// Billing address, tax IDs and Stripe Tax: bad input is a 400 naming the field; the address and tax ID are
// written to the Stripe customer (the system of record); a verified EU VAT ID of another EU country is
// reverse charged; subscriptions, upgrade previews and Checkout carry automatic tax. Real PostgreSQL, the
// official Stripe SDK against the emulator (its automatic tax table: FR 20 %, DE 19 %, US-CA 7.25 %).
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock, invoiceTotalsAgree } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { testPorts } from "../../testing.ts";
import { taxDetailsOf } from "../billing/index.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { billingHistory, previewUpgrade, subscribe, upgrade } from "./subscriptions.ts";
import { address, customerOf, failure, taxAccount } from "./tax.fixtures.ts";
import { updateTaxDetails } from "./tax-details.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
await syncCatalogToStripe(ports);
const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
const enterprise = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Enterprise" } });

const newAccount = () => taxAccount(db, "Tax customer");

describe("billing address and tax ID", () => {
  it("refuses bad input naming the field, and writes nothing", async () => {
    const account = await newAccount();
    const cases: [Parameters<typeof updateTaxDetails>[2], string][] = [
      [{ address: address({ country: "" }), taxId: null, requestKey: "bad-country-1" }, "address.country"],
      [
        {
          address: address({ country: "US", state: "CA", postalCode: "1234" }),
          taxId: null,
          requestKey: "bad-zip-01",
        },
        "address.postalCode",
      ],
      [
        {
          address: address({ country: "US", state: null, postalCode: "94107" }),
          taxId: null,
          requestKey: "bad-state-1",
        },
        "address.state",
      ],
      [
        { address: address({}), taxId: { type: "eu_vat", value: "FR123" }, requestKey: "bad-vat-01" },
        "taxId.value",
      ],
      [
        { address: address({}), taxId: { type: "us_ein", value: "12-34" }, requestKey: "bad-ein-01" },
        "taxId.value",
      ],
    ];
    for (const [input, field] of cases) {
      const error = await failure(updateTaxDetails(ports, account, input));
      expect(error.code).toBe("BAD_REQUEST");
      expect(error.field).toBe(field);
    }
    // Checked before Stripe is asked: no customer was made.
    expect(await customerOf(db, account.accountId)).toBe("");
    expect(await taxDetailsOf(ports, account.accountId)).toEqual({
      address: null,
      taxId: null,
      reverseCharge: false,
      taxLocationKnown: false,
    });
  });

  it("stores the address and tax ID on the Stripe customer; a verified VAT ID of another EU country is reverse charged", async () => {
    const account = await newAccount();
    const view = await updateTaxDetails(ports, account, {
      address: address({ country: "de", city: "Berlin", postalCode: "10115" }),
      taxId: { type: "eu_vat", value: "de 123 456 789" },
      requestKey: "tax-details-de-1",
    });
    expect(view).toMatchObject({
      address: { country: "DE", city: "Berlin" },
      taxId: { type: "eu_vat", value: "DE123456789", verification: "verified" },
      reverseCharge: true,
      taxLocationKnown: true,
    });
    const customer = await ports.stripe.customers.retrieve(await customerOf(db, account.accountId));
    expect(customer).toMatchObject({
      address: { country: "DE", postal_code: "10115" },
      tax_exempt: "reverse",
    });
    // The same request again changes nothing (one tax ID, not two).
    await updateTaxDetails(ports, account, {
      address: address({ country: "DE", city: "Berlin", postalCode: "10115" }),
      taxId: { type: "eu_vat", value: "DE123456789" },
      requestKey: "tax-details-de-1",
    });
    const ids = await ports.stripe.customers.listTaxIds(await customerOf(db, account.accountId));
    expect(ids.data.map((t) => t.value)).toEqual(["DE123456789"]);
    // Subscribing: the invoice carries no VAT (reverse charge) and says so.
    await subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa" });
    const [invoice] = await billingHistory(ports, account.accountId);
    expect(invoice).toMatchObject({ taxCents: 0, amountCents: invoice?.subtotalCents });
    // Removing the VAT ID: VAT is due again.
    const after = await updateTaxDetails(ports, account, {
      address: address({ country: "DE", city: "Berlin", postalCode: "10115" }),
      taxId: null,
      requestKey: "tax-details-de-2",
    });
    expect(after).toMatchObject({ taxId: null, reverseCharge: false });
  });

  it("a domestic (seller's country) or unverified VAT ID pays VAT", async () => {
    const unverified = await newAccount();
    const view = await updateTaxDetails(ports, unverified, {
      address: address({ country: "DE", postalCode: "10115" }),
      // Stripe's test-mode value that fails verification.
      taxId: { type: "eu_vat", value: "DE111111111" },
      requestKey: "tax-details-unverified",
    });
    expect(view).toMatchObject({ taxId: { verification: "unverified" }, reverseCharge: false });
    const irish = await newAccount();
    const home = await updateTaxDetails(ports, irish, {
      address: address({ country: "IE", postalCode: "D02 X285" }),
      taxId: { type: "eu_vat", value: "IE1234567T" },
      requestKey: "tax-details-ireland",
    });
    expect(home).toMatchObject({ taxId: { verification: "verified" }, reverseCharge: false });
  });
});

describe("Stripe Tax on what is sold", () => {
  it("taxes the subscription's invoices and the upgrade preview at the customer's rate (FR 20 %)", async () => {
    const account = await newAccount();
    await updateTaxDetails(ports, account, { address: address({}), taxId: null, requestKey: "tax-fr-00001" });
    await subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa" });
    const [first] = await billingHistory(ports, account.accountId);
    expect(first?.taxCents).toBe(Math.round(pro.monthlyPriceCents * 0.2));
    expect(first?.amountCents).toBe(pro.monthlyPriceCents + (first?.taxCents ?? 0));
    expect(
      invoiceTotalsAgree({
        subtotalCents: first?.subtotalCents ?? 0,
        discountCents: first?.discountCents ?? 0,
        taxCents: first?.taxCents ?? 0,
        totalCents: first?.amountCents ?? 0,
      }),
    ).toBe(true);
    clock.advance(10 * 24 * 3600 * 1000);
    const preview = await previewUpgrade(ports, account.accountId, enterprise.id);
    const net = preview.creditCents + preview.chargeCents;
    expect(preview.taxCents).toBe(Math.round(net * 0.2));
    expect(preview.totalDueNowCents).toBe(net + preview.taxCents);
    await upgrade(ports, account, { packageId: enterprise.id, prorationDate: preview.prorationDate });
    const [upgradeInvoice] = await billingHistory(ports, account.accountId);
    expect(upgradeInvoice).toMatchObject({
      amountCents: preview.totalDueNowCents,
      taxCents: preview.taxCents,
    });
  });

  it("a subscription made with a card before the address was known is taxed once the address is entered", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa" });
    const [first] = await billingHistory(ports, account.accountId);
    expect(first?.taxCents).toBe(0);
    const row = await db.subscription.findFirstOrThrow({ where: { accountId: account.accountId } });
    expect((await ports.billing.retrieveSubscription(row.stripeSubscriptionId)).automaticTax).toBe(false);
    await updateTaxDetails(ports, account, {
      address: address({}),
      taxId: null,
      requestKey: "tax-late-0001",
    });
    expect((await ports.billing.retrieveSubscription(row.stripeSubscriptionId)).automaticTax).toBe(true);
    clock.advance(24 * 3600 * 1000);
    const preview = await previewUpgrade(ports, account.accountId, enterprise.id);
    expect(preview.taxCents).toBe(Math.round((preview.creditCents + preview.chargeCents) * 0.2));
  });

  it("opens Checkout with automatic tax: a customer without an address enters it there", async () => {
    const account = await newAccount();
    const result = await subscribe(ports, account, { packageId: pro.id, requestKey: "tax-checkout-1" });
    if (result.kind !== "checkout") throw new Error("expected Checkout");
    const session = await ports.stripe.checkout.sessions.retrieve(result.sessionId);
    expect(session.automatic_tax.enabled).toBe(true);
  });
});
