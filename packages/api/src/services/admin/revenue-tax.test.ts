// Revenue and tax (issue #25): a refund or credit note of a taxed invoice gives back what was paid, tax
// included, and Revenue says the tax share of it (never revenue), so revenue given back excludes tax as MRR
// does. Real PostgreSQL, the Stripe emulator (automatic tax: FR 20 %).
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { adminRouter } from "../../root.ts";
import { testPorts } from "../../testing.ts";
import { createCallerFactory } from "../../trpc.ts";
import { adjustAccount } from "../billing/adjustments.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { subscribe } from "../subscriptions/subscriptions.ts";
import { updateTaxDetails } from "../subscriptions/tax-details.ts";

const { db } = await testDatabase();
const now = new Date();
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock: fixedClock(now) });
await syncCatalogToStripe(ports);
const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
const adminUser = await db.user.create({
  data: { email: "finance@revenue-tax.test", name: "Finance", role: "admin" },
});
const admin: Viewer = {
  userId: adminUser.id,
  email: adminUser.email,
  name: "Finance",
  role: "admin",
  accountId: null,
};
const caller = createCallerFactory(adminRouter)({ ...ports, viewer: admin, requestId: "test" });

describe("revenue given back on a taxed invoice", () => {
  it("says the tax share of refunds and credit notes (the invoice's tax over its total, half up)", async () => {
    const account = await db.account.create({ data: { name: "Taxed" } });
    const email = "taxed@revenue-tax.test";
    await db.user.create({
      data: { email, name: "Taxed", memberships: { create: { accountId: account.id, role: "owner" } } },
    });
    const ref = { accountId: account.id, email, name: "Taxed" };
    await updateTaxDetails(ports, ref, {
      address: { country: "FR", line1: null, line2: null, city: "Paris", state: null, postalCode: "75001" },
      taxId: null,
      requestKey: "revenue-tax-fr",
    });
    await subscribe(ports, ref, { packageId: pro.id, paymentMethodId: "pm_card_visa" });
    const invoice = await db.billingHistory.findFirstOrThrow({ where: { accountId: account.id } });
    expect(invoice.taxCents).toBe(Math.round(pro.monthlyPriceCents * 0.2));
    expect(invoice.totalCents).toBe(pro.monthlyPriceCents + invoice.taxCents);
    // A third refunded (an amount whose tax share is not whole), then the rest as a credit note.
    const third = Math.floor(invoice.totalCents / 3);
    await adjustAccount(
      ports,
      admin,
      account.id,
      { kind: "refund", invoiceId: invoice.id, amountCents: third, reason: "Outage" },
      "revenue-tax-refund",
    );
    await adjustAccount(
      ports,
      admin,
      account.id,
      {
        kind: "credit_note",
        invoiceId: invoice.id,
        amountCents: invoice.totalCents - third,
        reason: "Goodwill",
      },
      "revenue-tax-credit",
    );
    const { months } = await caller.revenue.overview({ months: 1 });
    const share = (amount: number) =>
      Math.floor((2 * amount * invoice.taxCents + invoice.totalCents) / (2 * invoice.totalCents));
    expect(months.flatMap((m) => m.givenBack)).toEqual([
      {
        currency: invoice.currency.trim(),
        refundedCents: third,
        creditedCents: invoice.totalCents - third,
        refundedTaxCents: share(third),
        creditedTaxCents: share(invoice.totalCents - third),
      },
    ]);
    // All of it given back: the revenue given back is the price (excl. tax), within a rounding each.
    const revenueBack = invoice.totalCents - share(third) - share(invoice.totalCents - third);
    expect(Math.abs(revenueBack - pro.monthlyPriceCents)).toBeLessThanOrEqual(1);
  });
});
