// An admin giving money back to a deleted account: a refund of a kept invoice goes back to the card (the
// invoices are kept for that), but nothing may credit the account's Stripe balance any more (a credit note
// on a paid invoice, a balance credit): no invoice will ever use it, and the deletion promised that nothing
// adds to the account.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { testPorts } from "../../testing.ts";
import { deleteAccount } from "../accounts/index.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { billingHistory, subscribe } from "../subscriptions/subscriptions.ts";
import { adjustAccount } from "./adjustments.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
await syncCatalogToStripe(ports);
const pro = await db.subscriptionPlan.findFirstOrThrow({ where: { name: "Pro" } });
const admin = await db.user.create({ data: { email: "ops@minutely.test", name: "Ops", role: "admin" } });
const adminViewer: Viewer = {
  userId: admin.id,
  email: admin.email,
  name: "Ops",
  role: "admin",
  accountId: null,
};

/** A deleted account that had paid one Pro invoice (9900 usd) with the test Visa. */
async function deletedPaidAccount(name: string) {
  const account = await db.account.create({ data: { name } });
  const owner = await db.user.create({
    data: {
      email: `${account.id}@example.com`,
      name,
      memberships: { create: { accountId: account.id, role: "owner" } },
    },
  });
  await subscribe(
    ports,
    { accountId: account.id, email: owner.email, name },
    { packageId: pro.id, paymentMethodId: "pm_card_visa" },
  );
  const [invoice] = await billingHistory(ports, account.id);
  if (!invoice) throw new Error("no invoice");
  await deleteAccount(ports, { userId: owner.id, accountId: account.id }, { confirmation: name });
  const { stripeCustomerId } = await db.account.findUniqueOrThrow({ where: { id: account.id } });
  return { accountId: account.id, invoiceId: invoice.id, customerId: stripeCustomerId ?? "" };
}

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof AppError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return { code: error.code, field: error.field, message: error.message };
}

describe("money given back to a deleted account", () => {
  it("refunds a kept invoice to the card, but credits nothing to the deleted account's balance", async () => {
    const a = await deletedPaidAccount("Gone But Owed");

    for (const input of [
      { kind: "credit_note" as const, invoiceId: a.invoiceId, amountCents: 1000, reason: "Sorry" },
      { kind: "balance_credit" as const, amountCents: 1000, currency: "usd", reason: "Goodwill" },
    ]) {
      const refused = await refusal(adjustAccount(ports, adminViewer, a.accountId, input, `k-${input.kind}`));
      expect(refused).toMatchObject({ code: "CONFLICT", field: "kind" });
      expect(refused.message).toMatch(/deleted/);
    }
    const customer = await ports.stripe.customers.retrieve(a.customerId);
    expect((customer as { balance: number }).balance).toBe(0);
    expect((await ports.stripe.creditNotes.list({ customer: a.customerId })).data).toEqual([]);
    expect(await db.invoiceAdjustment.count({ where: { accountId: a.accountId } })).toBe(0);

    // The invoices are kept so that they can still be refunded: the money goes back to the card.
    const refund = await adjustAccount(
      ports,
      adminViewer,
      a.accountId,
      { kind: "refund", invoiceId: a.invoiceId, amountCents: null, reason: "Closing the account" },
      "k-refund",
    );
    expect(refund).toMatchObject({ kind: "refund", status: "succeeded", amountCents: 9900, currency: "usd" });
  });

  it("a credit claimed before the deletion (Stripe unreachable then) is not asked of Stripe again after it", async () => {
    // Claimed while the account was live; Stripe's answer never came (the claim stays pending).
    const account = await db.account.create({ data: { name: "Pending Credit Co" } });
    const owner = await db.user.create({
      data: {
        email: `${account.id}@example.com`,
        name: "Owner",
        memberships: { create: { accountId: account.id, role: "owner" } },
      },
    });
    await subscribe(
      ports,
      { accountId: account.id, email: owner.email, name: "Owner" },
      { packageId: pro.id, paymentMethodId: "pm_card_visa" },
    );
    const input = { kind: "balance_credit" as const, amountCents: 700, currency: "usd", reason: "Goodwill" };
    await db.invoiceAdjustment.create({
      data: {
        accountId: account.id,
        kind: "balance_credit",
        status: "pending",
        amountCents: 700,
        currency: "usd",
        reason: "Goodwill",
        source: "admin",
        requestKey: `${account.id}:retry-me`,
        actorEmail: adminViewer.email,
        createdAt: clock.now(),
      },
    });
    await deleteAccount(
      ports,
      { userId: owner.id, accountId: account.id },
      { confirmation: "Pending Credit Co" },
    );

    // The admin retries the same request after the deletion: refused, nothing credited at Stripe. The claim
    // stays pending for the sweep, which records what Stripe did or releases it (it never asks again).
    const refused = await refusal(adjustAccount(ports, adminViewer, account.id, input, "retry-me"));
    expect(refused).toMatchObject({ code: "CONFLICT", field: "kind" });
    const { stripeCustomerId } = await db.account.findUniqueOrThrow({ where: { id: account.id } });
    const customer = await ports.stripe.customers.retrieve(stripeCustomerId ?? "");
    expect((customer as { balance: number }).balance).toBe(0);
  });
});
