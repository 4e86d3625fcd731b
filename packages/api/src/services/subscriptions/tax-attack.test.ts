// Attacks on the billing address and tax ID (issue #25): two tabs saving different details at once, unknown
// countries, the address changed between the upgrade preview and the upgrade. Real PostgreSQL, the official
// Stripe SDK against the emulator (automatic tax: FR 20 %, DE 19 %, US-CA 7.25 %).
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { AppError } from "../../errors.ts";
import { testPorts } from "../../testing.ts";
import { reverseChargeFor } from "../billing/index.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { processStripeEvent } from "./stripe-webhooks.ts";
import { billingHistory, previewUpgrade, subscribe, upgrade } from "./subscriptions.ts";
import { address, customerOf, failure, taxAccount } from "./tax.fixtures.ts";
import { updateTaxDetails } from "./tax-details.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
await syncCatalogToStripe(ports);
const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
const enterprise = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Enterprise" } });

const newAccount = () => taxAccount(db, "Tax attack");

describe("tax details attacks", () => {
  it("two tabs saving different details at once leave Stripe consistent: one tab's address and tax ID, the reverse charge that goes with them", async () => {
    const account = await newAccount();
    // The customer exists first (both tabs would otherwise race to create it, a separate matter).
    await updateTaxDetails(ports, account, { address: address({}), taxId: null, requestKey: "tabs-setup-0" });
    const customerId = await customerOf(db, account.accountId);
    const german = {
      address: address({ country: "DE", city: "Berlin", postalCode: "10115" }),
      taxId: { type: "eu_vat" as const, value: "DE123456789" },
    };
    const american = {
      address: address({ country: "US", city: "San Francisco", state: "CA", postalCode: "94107" }),
      taxId: null,
    };
    for (let round = 0; round < 6; round += 1) {
      const results = await Promise.allSettled([
        updateTaxDetails(ports, account, { ...german, requestKey: `tabs-de-${round}-x` }),
        updateTaxDetails(ports, account, { ...american, requestKey: `tabs-us-${round}-x` }),
        updateTaxDetails(ports, account, { ...german, requestKey: `tabs-de2-${round}-x` }),
      ]);
      for (const result of results) {
        if (result.status === "rejected") {
          expect(result.reason).toBeInstanceOf(AppError);
          expect((result.reason as AppError).code).toBe("CONFLICT");
        }
      }
      const details = await ports.billing.retrieveTaxDetails(customerId);
      expect(details.taxIds.length).toBeLessThanOrEqual(1);
      const isGerman = details.address?.country === "DE";
      expect(details.taxIds.map((t) => t.value)).toEqual(isGerman ? ["DE123456789"] : []);
      expect(details.taxExempt).toBe(reverseChargeFor(details) ? "reverse" : "none");
      expect(details.taxExempt).toBe(isGerman ? "reverse" : "none");
    }
  });

  it("refuses a country code that is no country, naming address.country", async () => {
    const account = await newAccount();
    for (const country of ["XX", "QQ", "ZZ", "EU", "UK", "EL", "00", "é"]) {
      const error = await failure(
        updateTaxDetails(ports, account, {
          address: address({ country }),
          taxId: null,
          requestKey: `bad-country-${country.charCodeAt(0)}-${country.length}`,
        }),
      );
      expect(error).toMatchObject({ code: "BAD_REQUEST", field: "address.country" });
    }
    expect(await db.account.findUniqueOrThrow({ where: { id: account.accountId } })).toMatchObject({
      stripeCustomerId: null,
    });
  });

  it("the address changed between the upgrade preview and the upgrade: the previewed total is refused (409), the new preview's is charged", async () => {
    const account = await newAccount();
    await updateTaxDetails(ports, account, {
      address: address({}),
      taxId: null,
      requestKey: "preview-fr-01",
    });
    await subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa" });
    clock.advance(5 * 24 * 3600 * 1000);
    const preview = await previewUpgrade(ports, account.accountId, enterprise.id);
    // Another tab: Germany (19 %) instead of France (20 %).
    await updateTaxDetails(ports, account, {
      address: address({ country: "DE", city: "Berlin", postalCode: "10115" }),
      taxId: null,
      requestKey: "preview-de-01",
    });
    const stale = await failure(
      upgrade(ports, account, {
        packageId: enterprise.id,
        prorationDate: preview.prorationDate,
        expectedTotalCents: preview.totalDueNowCents,
      }),
    );
    expect(stale).toMatchObject({ code: "CONFLICT", field: "expectedTotalCents" });
    const row = await db.subscription.findFirstOrThrow({ where: { accountId: account.accountId } });
    expect(row.planId).toBe(pro.id);
    const again = await previewUpgrade(ports, account.accountId, enterprise.id);
    expect(again.totalDueNowCents).not.toBe(preview.totalDueNowCents);
    await upgrade(ports, account, {
      packageId: enterprise.id,
      prorationDate: again.prorationDate,
      expectedTotalCents: again.totalDueNowCents,
    });
    const [charged] = await billingHistory(ports, account.accountId);
    expect({ total: charged?.amountCents, tax: charged?.taxCents }).toEqual({
      total: again.totalDueNowCents,
      tax: again.taxCents,
    });
  });

  it("Stripe failing mid-way never leaves a reverse charge the written details do not give (fails closed: VAT charged)", async () => {
    const account = await newAccount();
    const german = {
      address: address({ country: "DE", city: "Berlin", postalCode: "10115" }),
      taxId: { type: "eu_vat" as const, value: "DE123456789" },
    };
    await updateTaxDetails(ports, account, { ...german, requestKey: "midway-de-01" });
    const customerId = await customerOf(db, account.accountId);
    expect((await ports.billing.retrieveTaxDetails(customerId)).taxExempt).toBe("reverse");
    const american = {
      address: address({ country: "US", city: "San Francisco", state: "CA", postalCode: "94107" }),
      taxId: null,
    };
    // Each Stripe write in turn fails once (Stripe unreachable); what Stripe holds must stay consistent.
    for (const failing of ["replaceTaxId", "setCustomerAddress", "setTaxExempt"] as const) {
      for (const [target, name] of [
        [american, "us"],
        [german, "de"],
      ] as const) {
        let failed = false;
        const billing = new Proxy(ports.billing, {
          get(real, property, receiver) {
            const value = Reflect.get(real, property, receiver);
            if (property !== failing || typeof value !== "function") {
              return typeof value === "function" ? value.bind(real) : value;
            }
            return async (...args: unknown[]) => {
              if (!failed) {
                failed = true;
                // The write reaches Stripe, its answer is lost (the worst case for the next step).
                await value.apply(real, args);
                throw new Error("Stripe unreachable");
              }
              return await value.apply(real, args);
            };
          },
        });
        await updateTaxDetails({ ...ports, billing }, account, {
          ...target,
          requestKey: `midway-${failing}-${name}`,
        }).catch(() => undefined);
        const details = await ports.billing.retrieveTaxDetails(customerId);
        if (details.taxExempt === "reverse") expect(reverseChargeFor(details), failing).toBe(true);
        // The retry of the same intent completes it.
        await updateTaxDetails(ports, account, { ...target, requestKey: `midway-${failing}-${name}` });
        const done = await ports.billing.retrieveTaxDetails(customerId);
        expect(done.taxExempt).toBe(name === "de" ? "reverse" : "none");
        expect(done.address?.country).toBe(name === "de" ? "DE" : "US");
      }
    }
  });

  it("a VAT ID deleted (or no longer verified) at Stripe ends the reverse charge when its webhook arrives", async () => {
    const account = await newAccount();
    await updateTaxDetails(ports, account, {
      address: address({ country: "DE", city: "Berlin", postalCode: "10115" }),
      taxId: { type: "eu_vat", value: "DE123456789" },
      requestKey: "dashboard-de-01",
    });
    const customerId = await customerOf(db, account.accountId);
    const [vat] = (await ports.stripe.customers.listTaxIds(customerId)).data;
    if (!vat) throw new Error("expected the VAT ID");
    // Removed in Stripe's dashboard: Stripe sends customer.tax_id.deleted.
    await ports.stripe.customers.deleteTaxId(customerId, vat.id);
    const event = (await ports.stripe.events.list({ type: "customer.tax_id.deleted", limit: 100 })).data.find(
      (e) => (e.data.object as { id?: string }).id === vat.id,
    );
    if (!event) throw new Error("expected customer.tax_id.deleted");
    await db.stripeEvent.create({
      data: {
        id: event.id,
        type: event.type,
        payload: JSON.parse(JSON.stringify(event)),
        stripeCreatedAt: new Date(event.created * 1000),
      },
    });
    await processStripeEvent(ports, event.id);
    const details = await ports.billing.retrieveTaxDetails(customerId);
    expect(details.taxIds).toEqual([]);
    expect(details.taxExempt).toBe("none");
  });
});
