// Refunds, credit notes and balance credits: never more than was paid less what was given back (a double
// click and two concurrent clicks included), recorded and audit-logged, and what Stripe's dashboard did
// directly shows up through the webhooks, once.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { AppError, UpstreamUnavailableError } from "../../errors.ts";
import { adminRouter } from "../../root.ts";
import { testPorts } from "../../testing.ts";
import { createCallerFactory } from "../../trpc.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { processStripeEvent } from "../subscriptions/stripe-webhooks.ts";
import { billingHistory, invoiceOf, subscribe } from "../subscriptions/subscriptions.ts";
import { adjustAccount, adjustmentsOf, sweepStaleAdjustmentClaims } from "./adjustments.ts";
import { syncInvoice } from "./subscription-sync.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
const stripe = ports.stripe;
await syncCatalogToStripe(ports);
const pro = await db.subscriptionPlan.findFirstOrThrow({ where: { name: "Pro" } });
const admin = await db.user.create({ data: { email: "refunds@minutely.test", name: "Ops", role: "admin" } });
const adminViewer: Viewer = {
  userId: admin.id,
  email: admin.email,
  name: "Ops",
  role: "admin",
  accountId: null,
};
const adminCaller = createCallerFactory(adminRouter)({ ...ports, viewer: adminViewer, requestId: "test" });

let counter = 0;
/** An account subscribed to Pro with the test Visa: one paid invoice of 9900 usd. */
async function paidAccount() {
  counter += 1;
  const account = await db.account.create({ data: { name: `Refund ${counter}` } });
  const email = `refund${counter}@example.com`;
  await db.user.create({
    data: {
      email,
      name: `Refund ${counter}`,
      memberships: { create: { accountId: account.id, role: "owner" } },
    },
  });
  await subscribe(
    ports,
    { accountId: account.id, email, name: account.name },
    { packageId: pro.id, paymentMethodId: "pm_card_visa" },
  );
  const [invoice] = await billingHistory(ports, account.id);
  if (!invoice) throw new Error("no invoice");
  const customerId =
    (await db.account.findUniqueOrThrow({ where: { id: account.id } })).stripeCustomerId ?? "";
  return { accountId: account.id, invoiceId: invoice.id, customerId };
}

const key = () => `key-${counter}-${Math.random().toString(36).slice(2, 12)}`;

async function refusal(promise: Promise<unknown>): Promise<{ code: string; field: string | undefined }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return { code: error.code, field: error.field };
    throw error;
  }
  throw new Error("expected a refusal");
}

async function eventsOf(customerId: string, types: string[]): Promise<Stripe.Event[]> {
  const events: Stripe.Event[] = [];
  for await (const event of stripe.events.list({ limit: 100 })) {
    if (types.includes(event.type) && JSON.stringify(event.data.object).includes(customerId))
      events.push(event);
  }
  return events.reverse();
}

/** Records each event as the webhook route does and processes it as the queue would (twice: a replay). */
async function deliverTwice(events: Stripe.Event[]) {
  for (const round of [1, 2]) {
    for (const event of events) {
      await db.stripeEvent.upsert({
        where: { id: event.id },
        create: {
          id: event.id,
          type: event.type,
          payload: JSON.parse(JSON.stringify(event)),
          stripeCreatedAt: new Date(event.created * 1000),
        },
        update: { status: "received" },
      });
      await processStripeEvent(ports, event.id);
      expect(round).toBeGreaterThan(0);
    }
  }
}

describe("refunds and credits", () => {
  it("refunds part of an invoice, then the rest, and never more than was paid", async () => {
    const { accountId, invoiceId } = await paidAccount();
    const part = await adjustAccount(
      ports,
      adminViewer,
      accountId,
      { kind: "refund", invoiceId, amountCents: 2500, reason: "Calls dropped on Tuesday" },
      key(),
    );
    expect(part).toMatchObject({ kind: "refund", status: "succeeded", amountCents: 2500, currency: "usd" });
    expect(part.stripeObjectId).toMatch(/^re_/);
    // 9900 paid, 2500 refunded: 7401 is one cent too many.
    expect(
      await refusal(
        adjustAccount(
          ports,
          adminViewer,
          accountId,
          { kind: "refund", invoiceId, amountCents: 7401, reason: "x" },
          key(),
        ),
      ),
    ).toEqual({ code: "BAD_REQUEST", field: "amountCents" });
    const rest = await adjustAccount(
      ports,
      adminViewer,
      accountId,
      { kind: "refund", invoiceId, amountCents: null, reason: "Goodwill" },
      key(),
    );
    expect(rest.amountCents).toBe(7400);
    expect(
      await refusal(
        adjustAccount(
          ports,
          adminViewer,
          accountId,
          { kind: "refund", invoiceId, amountCents: 1, reason: "x" },
          key(),
        ),
      ),
    ).toEqual({ code: "BAD_REQUEST", field: "amountCents" });
    // The customer sees it on the invoice; Stripe has exactly what was paid refunded.
    const invoice = await invoiceOf(ports, accountId, invoiceId);
    expect(invoice.refundedCents).toBe(9900);
    expect(invoice.adjustments.map((a) => [a.kind, a.amountCents, a.reason]).sort()).toEqual([
      ["refund", 2500, "Calls dropped on Tuesday"],
      ["refund", 7400, "Goodwill"],
    ]);
    const audit = await db.auditLog.findMany({ where: { entityId: accountId, action: "invoice.refund" } });
    expect(audit.map((a) => (a.after as { amountCents: number }).amountCents).sort()).toEqual([2500, 7400]);
    expect(audit.every((a) => a.actorEmail === adminViewer.email)).toBe(true);
  });

  it("gives back once for a double click, and once for two concurrent clicks of the whole amount", async () => {
    const { accountId, invoiceId, customerId } = await paidAccount();
    const same = key();
    const input = { kind: "refund" as const, invoiceId, amountCents: 1000, reason: "Double click" };
    const [a, b] = await Promise.all([
      adjustAccount(ports, adminViewer, accountId, input, same),
      adjustAccount(ports, adminViewer, accountId, input, same),
    ]);
    expect(a.id).toBe(b.id);
    const all = { kind: "refund" as const, invoiceId, amountCents: 8900, reason: "All of the rest" };
    const results = await Promise.allSettled([
      adjustAccount(ports, adminViewer, accountId, all, key()),
      adjustAccount(ports, adminViewer, accountId, all, key()),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const refunds = await stripe.refunds.list({ limit: 100 });
    const mine = refunds.data.filter((r) => r.customer === customerId);
    expect(mine.reduce((sum, r) => sum + r.amount, 0)).toBe(9900);
    expect(mine).toHaveLength(2);
  });

  it("gives back at most what was paid when a credit note and a refund of all of it are clicked at once", async () => {
    // Stripe checks a refund against the payment and a credit note against the invoice, not one against the
    // other: only Minutely's claim keeps the two together within what was paid.
    const { accountId, invoiceId } = await paidAccount();
    const results = await Promise.allSettled([
      adjustAccount(
        ports,
        adminViewer,
        accountId,
        { kind: "credit_note", invoiceId, amountCents: 9900, reason: "a" },
        key(),
      ),
      adjustAccount(
        ports,
        adminViewer,
        accountId,
        { kind: "refund", invoiceId, amountCents: 9900, reason: "b" },
        key(),
      ),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const invoice = await invoiceOf(ports, accountId, invoiceId);
    expect(invoice.refundedCents + invoice.creditedCents).toBe(9900);
  });

  it("refuses another customer's invoice, an unknown one and an amount of 0 or below, naming the field", async () => {
    const mine = await paidAccount();
    const theirs = await paidAccount();
    const input = (invoiceId: string, amountCents: number | null) => ({
      kind: "refund" as const,
      invoiceId,
      amountCents,
      reason: "x",
    });
    expect(
      await refusal(adjustAccount(ports, adminViewer, mine.accountId, input(theirs.invoiceId, 100), key())),
    ).toEqual({ code: "NOT_FOUND", field: "invoiceId" });
    expect(
      await refusal(
        adjustAccount(
          ports,
          adminViewer,
          mine.accountId,
          input("00000000-0000-4000-8000-000000000000", 100),
          key(),
        ),
      ),
    ).toEqual({ code: "NOT_FOUND", field: "invoiceId" });
    expect(
      await refusal(adjustAccount(ports, adminViewer, mine.accountId, input(mine.invoiceId, 0), key())),
    ).toEqual({
      code: "BAD_REQUEST",
      field: "amountCents",
    });
    // The tRPC input refuses wrong types and non-positive amounts before the service.
    for (const amountCents of [0, -5, 1.5, "100"]) {
      await expect(
        adminCaller.customers.adjust({
          accountId: mine.accountId,
          kind: "refund",
          invoiceId: mine.invoiceId,
          amountCents: amountCents as number,
          reason: "x",
          requestKey: key(),
        }),
      ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    }
    // The customer's invoice read is scoped by account: another's id is unknown.
    expect(await refusal(invoiceOf(ports, mine.accountId, theirs.invoiceId))).toEqual({
      code: "NOT_FOUND",
      field: "invoiceId",
    });
    expect(await db.invoiceAdjustment.count({ where: { accountId: mine.accountId } })).toBe(0);
  });

  it("issues a credit note and a balance credit, counted against what is left", async () => {
    const { accountId, invoiceId, customerId } = await paidAccount();
    const note = await adminCaller.customers.adjust({
      accountId,
      kind: "credit_note",
      invoiceId,
      amountCents: 4000,
      reason: "Outage credit",
      requestKey: key(),
    });
    expect(note).toMatchObject({ status: "succeeded", amountCents: 4000 });
    expect(note.stripeObjectId).toMatch(/^cn_/);
    // 9900 paid, 4000 credited: 5901 cannot be refunded.
    expect(
      await refusal(
        adjustAccount(
          ports,
          adminViewer,
          accountId,
          { kind: "refund", invoiceId, amountCents: 5901, reason: "x" },
          key(),
        ),
      ),
    ).toEqual({ code: "BAD_REQUEST", field: "amountCents" });
    const credit = await adminCaller.customers.adjust({
      accountId,
      kind: "balance_credit",
      amountCents: 1500,
      currency: "usd",
      reason: "Sorry for the wait",
      requestKey: key(),
    });
    expect(credit.stripeObjectId).toMatch(/^cbtxn_/);
    expect((await stripe.customers.retrieve(customerId)) as Stripe.Customer).toMatchObject({
      balance: -5500,
    });
    expect((await invoiceOf(ports, accountId, invoiceId)).creditedCents).toBe(4000);
    await expect(
      adminCaller.customers.adjust({
        accountId,
        kind: "balance_credit",
        amountCents: 100,
        currency: "eur",
        reason: "x",
        requestKey: key(),
      }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("records a refund, credit note and balance credit made in Stripe's dashboard, once, from the webhooks", async () => {
    const { accountId, invoiceId, customerId } = await paidAccount();
    const row = await db.billingHistory.findUniqueOrThrow({ where: { id: invoiceId } });
    await stripe.refunds.create({ payment_intent: row.stripePaymentIntentId ?? "", amount: 900 });
    await stripe.creditNotes.create({ invoice: row.stripeInvoiceId, amount: 1000, memo: "Dashboard credit" });
    await stripe.customers.createBalanceTransaction(customerId, { amount: -300, currency: "usd" });
    await deliverTwice(
      await eventsOf(customerId, ["charge.refunded", "credit_note.created", "customer.updated"]),
    );
    const found = await adjustmentsOf(ports, accountId);
    expect(found.map((a) => [a.kind, a.amountCents, a.source]).sort()).toEqual([
      ["balance_credit", 300, "stripe"],
      ["credit_note", 1000, "stripe"],
      ["refund", 900, "stripe"],
    ]);
    const invoice = await invoiceOf(ports, accountId, invoiceId);
    expect([invoice.refundedCents, invoice.creditedCents]).toEqual([900, 1000]);
    expect(
      await db.auditLog.count({ where: { entityId: accountId, actorEmail: { startsWith: "stripe@" } } }),
    ).toBe(3);
    // What is left counts them: 9900 - 900 - 1000.
    expect(
      await refusal(
        adjustAccount(
          ports,
          adminViewer,
          accountId,
          { kind: "refund", invoiceId, amountCents: 8001, reason: "x" },
          key(),
        ),
      ),
    ).toEqual({ code: "BAD_REQUEST", field: "amountCents" });
  });

  it("refuses the same request key with another input, also after Stripe could not be reached (no silent first adjustment)", async () => {
    const { accountId, invoiceId, customerId } = await paidAccount();
    const down: typeof ports.billing = Object.create(ports.billing);
    down.refundPayment = async () => {
      throw new UpstreamUnavailableError("Stripe could not be reached.", 5);
    };
    const same = key();
    const input = { kind: "refund" as const, invoiceId, amountCents: 1000, reason: "Outage" };
    await expect(
      adjustAccount({ ...ports, billing: down }, adminViewer, accountId, input, same),
    ).rejects.toBeInstanceOf(UpstreamUnavailableError);
    // The request idempotency released its claim (a failure stores nothing); the adjustment's key did not.
    for (const other of [
      { ...input, amountCents: 5000 },
      { ...input, kind: "credit_note" as const },
      { ...input, reason: "Another reason" },
      { kind: "balance_credit" as const, amountCents: 1000, currency: "usd", reason: "Outage" },
    ]) {
      expect(await refusal(adjustAccount(ports, adminViewer, accountId, other, same))).toEqual({
        code: "CONFLICT",
        field: "requestKey",
      });
    }
    // The same input again (or "all that is left" again) completes the first: one refund of 1000.
    const retried = await adjustAccount(ports, adminViewer, accountId, input, same);
    expect(retried).toMatchObject({ status: "succeeded", amountCents: 1000 });
    const refunds = (await stripe.refunds.list({ limit: 100 })).data.filter((r) => r.customer === customerId);
    expect(refunds.map((r) => r.amount)).toEqual([1000]);
  });

  it("releases a claim Stripe never made (it was down, no retry) once stale; one made whose answer was lost is found, not made twice", async () => {
    const { accountId, invoiceId, customerId } = await paidAccount();
    const down: typeof ports.billing = Object.create(ports.billing);
    down.refundPayment = async () => {
      throw new UpstreamUnavailableError("Stripe could not be reached.", 5);
    };
    const all = { kind: "refund" as const, invoiceId, amountCents: null, reason: "Outage" };
    const orphan = key();
    await expect(
      adjustAccount({ ...ports, billing: down }, adminViewer, accountId, all, orphan),
    ).rejects.toBeInstanceOf(UpstreamUnavailableError);
    // Right away the claim holds (its request may still be waiting for Stripe).
    expect(
      await refusal(adjustAccount(ports, adminViewer, accountId, { ...all, amountCents: 100 }, key())),
    ).toEqual({ code: "BAD_REQUEST", field: "amountCents" });
    // Fifteen minutes later no request can be waiting: Stripe has no such refund, so the claim is released.
    const later = { ...ports, clock: fixedClock(new Date(clock.now().getTime() + 15 * 60_000)) };
    const refund = await adjustAccount(later, adminViewer, accountId, { ...all, amountCents: 9900 }, key());
    expect(refund).toMatchObject({ status: "succeeded", amountCents: 9900 });
    // The orphan's retry does not ask Stripe again.
    expect(await adjustAccount(later, adminViewer, accountId, all, orphan)).toMatchObject({
      status: "failed",
    });
    const refunds = (await stripe.refunds.list({ limit: 100 })).data.filter((r) => r.customer === customerId);
    expect(refunds.map((r) => r.amount)).toEqual([9900]);
    expect((await invoiceOf(ports, accountId, invoiceId)).refundedCents).toBe(9900);
    expect(await db.auditLog.count({ where: { entityId: accountId, action: "invoice.refund_failed" } })).toBe(
      1,
    );

    // Stripe refunded but its answer was lost: fifteen minutes later it is found (by its metadata), not released.
    const second = await paidAccount();
    const lost: typeof ports.billing = Object.create(ports.billing);
    lost.refundPayment = async (input) => {
      await ports.billing.refundPayment(input);
      throw new UpstreamUnavailableError("Stripe's answer was lost.", 5);
    };
    await expect(
      adjustAccount(
        { ...ports, billing: lost },
        adminViewer,
        second.accountId,
        { ...all, invoiceId: second.invoiceId },
        key(),
      ),
    ).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(
      await refusal(
        adjustAccount(
          later,
          adminViewer,
          second.accountId,
          { ...all, invoiceId: second.invoiceId, amountCents: 1 },
          key(),
        ),
      ),
    ).toEqual({ code: "BAD_REQUEST", field: "amountCents" });
    expect((await adjustmentsOf(ports, second.accountId)).map((a) => [a.status, a.amountCents])).toEqual([
      ["succeeded", 9900],
    ]);
  });

  it("the periodic sweep settles claims left pending when nobody looks at the invoice again: released when Stripe never made them, recorded when it did", async () => {
    const down: typeof ports.billing = Object.create(ports.billing);
    down.refundPayment = async () => {
      throw new UpstreamUnavailableError("Stripe could not be reached.", 5);
    };
    down.createBalanceCredit = async () => {
      throw new UpstreamUnavailableError("Stripe could not be reached.", 5);
    };
    const lost: typeof ports.billing = Object.create(ports.billing);
    lost.createBalanceCredit = async (input) => {
      await ports.billing.createBalanceCredit(input);
      throw new UpstreamUnavailableError("Stripe's answer was lost.", 5);
    };
    const never = await paidAccount();
    const made = await paidAccount();
    const all = { kind: "refund" as const, invoiceId: never.invoiceId, amountCents: null, reason: "Outage" };
    const credit = { kind: "balance_credit" as const, amountCents: 500, currency: "usd", reason: "Outage" };
    for (const attempt of [
      () => adjustAccount({ ...ports, billing: down }, adminViewer, never.accountId, all, key()),
      () => adjustAccount({ ...ports, billing: down }, adminViewer, never.accountId, credit, key()),
      () => adjustAccount({ ...ports, billing: lost }, adminViewer, made.accountId, credit, key()),
    ]) {
      await expect(attempt()).rejects.toBeInstanceOf(UpstreamUnavailableError);
    }
    const statuses = async (accountId: string) =>
      (await db.invoiceAdjustment.findMany({ where: { accountId }, orderBy: { kind: "asc" } })).map(
        (a) => `${a.kind}:${a.status}`,
      );
    // Too early: a request may still be waiting for Stripe, so the sweep leaves every claim alone.
    expect(await sweepStaleAdjustmentClaims(ports)).toMatchObject({ failed: [] });
    expect(await statuses(never.accountId)).toEqual(["refund:pending", "balance_credit:pending"]);

    // While Stripe is down the sweep fails as an outage (the worker retries it) and changes nothing.
    const later = { ...ports, clock: fixedClock(new Date(clock.now().getTime() + 15 * 60_000)) };
    const unreachable: typeof ports.billing = Object.create(ports.billing);
    const unreachableError = async () => {
      throw new UpstreamUnavailableError("Stripe could not be reached.", 5);
    };
    unreachable.listInvoiceAdjustments = unreachableError;
    unreachable.listBalanceCredits = unreachableError;
    const outage = await sweepStaleAdjustmentClaims({ ...later, billing: unreachable });
    expect(outage.checked).toBeGreaterThanOrEqual(3);
    expect(outage.failed.map((f) => f.id)).toEqual(
      expect.arrayContaining([never.invoiceId, never.accountId, made.accountId]),
    );
    expect(await statuses(never.accountId)).toEqual(["refund:pending", "balance_credit:pending"]);

    const swept = await sweepStaleAdjustmentClaims(later);
    expect(swept.failed).toEqual([]);
    expect(await statuses(never.accountId)).toEqual(["refund:failed", "balance_credit:failed"]);
    expect(await statuses(made.accountId)).toEqual(["balance_credit:succeeded"]);
    expect((await invoiceOf(ports, never.accountId, never.invoiceId)).refundedCents).toBe(0);
    // The invoice is free again: all of it can be refunded.
    expect(
      await adjustAccount(later, adminViewer, never.accountId, { ...all, amountCents: 9900 }, key()),
    ).toMatchObject({ status: "succeeded", amountCents: 9900 });
    // A second sweep changes nothing.
    expect((await sweepStaleAdjustmentClaims(later)).failed).toEqual([]);
    expect(await statuses(made.accountId)).toEqual(["balance_credit:succeeded"]);
    expect(await db.invoiceAdjustment.count({ where: { accountId: made.accountId } })).toBe(1);
  });

  it("records a dashboard refund whose metadata names no Minutely adjustment (not a UUID) instead of failing the webhook", async () => {
    const { accountId, invoiceId, customerId } = await paidAccount();
    const row = await db.billingHistory.findUniqueOrThrow({ where: { id: invoiceId } });
    await stripe.refunds.create({
      payment_intent: row.stripePaymentIntentId ?? "",
      amount: 700,
      metadata: { minutely_adjustment_id: "copied-by-hand" },
    });
    await deliverTwice(await eventsOf(customerId, ["charge.refunded"]));
    expect((await adjustmentsOf(ports, accountId)).map((a) => [a.kind, a.amountCents, a.source])).toEqual([
      ["refund", 700, "stripe"],
    ]);
    expect((await invoiceOf(ports, accountId, invoiceId)).refundedCents).toBe(700);
  });

  it("a credit note voided in Stripe's dashboard no longer counts: not shown to the customer, not revenue, its amount can be given back again", async () => {
    const { accountId, invoiceId, customerId } = await paidAccount();
    const note = await adjustAccount(
      ports,
      adminViewer,
      accountId,
      { kind: "credit_note", invoiceId, amountCents: 4000, reason: "Outage credit" },
      key(),
    );
    await stripe.creditNotes.voidCreditNote(note.stripeObjectId ?? "");
    await deliverTwice(await eventsOf(customerId, ["credit_note.voided"]));
    const invoice = await invoiceOf(ports, accountId, invoiceId);
    expect([invoice.creditedCents, invoice.adjustments]).toEqual([0, []]);
    expect(await adjustmentsOf(ports, accountId)).toMatchObject([{ id: note.id, status: "failed" }]);
    expect(await db.invoiceAdjustment.count({ where: { accountId, status: "succeeded" } })).toBe(0);
    // All 9900 is left again.
    const refund = await adjustAccount(
      ports,
      adminViewer,
      accountId,
      { kind: "refund", invoiceId, amountCents: 9900, reason: "Refund instead" },
      key(),
    );
    expect(refund).toMatchObject({ status: "succeeded", amountCents: 9900 });
    expect(
      await db.auditLog.count({ where: { entityId: accountId, action: "invoice.credit_note_voided" } }),
    ).toBe(1);
  });

  it("records a dashboard refund whose charge.refunded arrives before Minutely knows the invoice (webhooks out of order)", async () => {
    const { accountId, invoiceId, customerId } = await paidAccount();
    const row = await db.billingHistory.findUniqueOrThrow({ where: { id: invoiceId } });
    // As if invoice.paid had not been processed yet: Minutely has no row for the invoice.
    await db.billingHistory.delete({ where: { id: invoiceId } });
    await stripe.refunds.create({ payment_intent: row.stripePaymentIntentId ?? "", amount: 1300 });
    await deliverTwice(await eventsOf(customerId, ["charge.refunded"]));
    const [known] = await billingHistory(ports, accountId);
    expect(known).toMatchObject({ refundedCents: 1300 });
    expect((await adjustmentsOf(ports, accountId)).map((a) => [a.kind, a.amountCents, a.source])).toEqual([
      ["refund", 1300, "stripe"],
    ]);
  });

  it("refuses to refund or credit an invoice the customer's balance paid (nothing collected) with a message that says so", async () => {
    const { accountId, customerId } = await paidAccount();
    await stripe.customers.createBalanceTransaction(customerId, { amount: -5000, currency: "usd" });
    await stripe.invoiceItems.create({ customer: customerId, amount: 500, currency: "usd" });
    const draft = await stripe.invoices.create({
      customer: customerId,
      pending_invoice_items_behavior: "include",
      auto_advance: false,
    });
    const final = await stripe.invoices.finalizeInvoice(draft.id ?? "");
    if (final.status !== "paid") await stripe.invoices.pay(final.id ?? "");
    const row = await syncInvoice(ports, final.id ?? "");
    expect(row).toMatchObject({ status: "paid", amountPaidCents: 0 });
    for (const kind of ["refund", "credit_note"] as const) {
      const error = await adjustAccount(
        ports,
        adminViewer,
        accountId,
        { kind, invoiceId: row?.id ?? "", amountCents: 100, reason: "x" },
        key(),
      ).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "CONFLICT", field: "invoiceId" });
      expect((error as Error).message).not.toMatch(/this one is paid/);
      expect((error as Error).message).toMatch(/nothing was collected/);
    }
  });

  it("six concurrent refunds and credit notes of 2000 on 9900 give back four, never more than was paid", async () => {
    const { accountId, invoiceId, customerId } = await paidAccount();
    const results = await Promise.allSettled(
      [0, 1, 2, 3, 4, 5].map((i) =>
        adjustAccount(
          ports,
          adminViewer,
          accountId,
          { kind: i % 2 ? "credit_note" : "refund", invoiceId, amountCents: 2000, reason: `Race ${i}` },
          key(),
        ),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(4);
    for (const r of results) {
      if (r.status === "rejected")
        expect(r.reason).toMatchObject({ code: "BAD_REQUEST", field: "amountCents" });
    }
    const refunds = (await stripe.refunds.list({ limit: 100 })).data.filter((r) => r.customer === customerId);
    const row = await db.billingHistory.findUniqueOrThrow({ where: { id: invoiceId } });
    const notes = (await stripe.creditNotes.list({ invoice: row.stripeInvoiceId })).data;
    const given = [...refunds, ...notes].reduce((sum, x) => sum + ("total" in x ? x.total : x.amount), 0);
    expect(given).toBe(8000);
    const invoice = await invoiceOf(ports, accountId, invoiceId);
    expect(invoice.refundedCents + invoice.creditedCents).toBe(8000);
  });
});
