// Minutely's subscription and invoice state converges to Stripe's: every sync re-reads the object from
// Stripe and upserts it, so event order and duplicates do not matter.
import { transactionLock } from "@minutely/db";
import {
  accountNow,
  type Currency,
  mapStripeSubscriptionStatus,
  parseCurrency,
  type SubscriptionStatus,
} from "@minutely/domain";
import type { Ports } from "../../context.ts";
import type { Db } from "../../db.ts";
import {
  PAUSE_STARTS_AT_KEY,
  type ProviderDiscount,
  type ProviderInvoice,
  type ProviderSubscription,
} from "../../ports/billing.ts";
import { enforceAgentLimit } from "../accounts/index.ts";
import { settleCurrentPeriodPlan } from "../metering/index.ts";
import { storedLines } from "./invoice-lines.ts";
import { recordPauseSpan, rowPauseInForce } from "./pause-spans.ts";

/**
 * A ticket from PostgreSQL's global, increasing transaction-id counter, taken just before Stripe is read.
 * Any change at Stripe after it is followed by a sync that takes its ticket later (the action's own sync,
 * or the webhook job of the change), so the row keeps the read with the highest ticket: a read made before
 * a change can never overwrite, committing late, one made after it. No lock is held while Stripe answers.
 */
async function readTicket(db: Db): Promise<bigint> {
  const [row] = await db.$queryRaw<{ ticket: bigint }[]>`SELECT pg_current_xact_id()::text::bigint AS ticket`;
  if (row === undefined) throw new Error("PostgreSQL returned no transaction id");
  return BigInt(row.ticket);
}

const INVOICE_STATUSES = ["draft", "open", "paid", "void", "uncollectible"] as const;
type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

/** Stripe's invoice status, failing closed to "open" (unpaid) for anything unknown. */
function invoiceStatusOf(status: string): InvoiceStatus {
  return (INVOICE_STATUSES as readonly string[]).includes(status) ? (status as InvoiceStatus) : "open";
}

async function accountForCustomer(db: Db, customerId: string, metadataAccountId?: string) {
  const byCustomer = await db.account.findUnique({ where: { stripeCustomerId: customerId } });
  if (byCustomer) return byCustomer;
  if (metadataAccountId) {
    const byMetadata = await db.account.findUnique({ where: { id: metadataAccountId } });
    if (byMetadata && !byMetadata.stripeCustomerId) {
      return await db.account.update({
        where: { id: byMetadata.id },
        data: { stripeCustomerId: customerId },
      });
    }
  }
  return null;
}

/** The subscription's currency as Stripe bills it; one Minutely does not sell in is an error, never stored. */
function billedCurrency(remote: ProviderSubscription): Currency {
  const currency = parseCurrency(remote.currency);
  if (!currency)
    throw new Error(`Stripe subscription ${remote.id} bills in an unsupported currency "${remote.currency}"`);
  return currency;
}

async function planForPrice(db: Db, priceId: string) {
  const price = await db.planPrice.findUnique({ where: { stripePriceId: priceId } });
  if (price) return price.planId;
  const plan = await db.subscriptionPlan.findFirst({ where: { stripePriceId: priceId } });
  if (plan) return plan.id;
  throw new Error(`Stripe price ${priceId} belongs to no Minutely package`);
}

/** The test clock's frozen time, or null when Stripe cannot say (the row keeps what it had). */
async function testClockTimeOf(ports: Ports, testClockId: string): Promise<Date | null> {
  try {
    return (await ports.billing.retrieveTestClock(testClockId)).frozenTime;
  } catch {
    return null;
  }
}

/**
 * Stripe's own time for a subscription: its test clock's frozen time read live (test mode and the emulator),
 * else Minutely's clock. For what Stripe checks against its clock (an upgrade's proration date must lie in
 * the period Stripe computed on it, even while the clock lags the wall clock). The time read is recorded on
 * the row (never moving it back), so the account's now (`nowFor`, which every other rule reads from the row
 * without asking Stripe) catches up with a clock moved outside Minutely.
 */
export async function stripeNowFor(
  ports: Pick<Ports, "db" | "billing" | "clock">,
  subscription: { id: string; stripeTestClockId: string | null },
): Promise<Date> {
  if (!subscription.stripeTestClockId) return ports.clock.now();
  const { frozenTime } = await ports.billing.retrieveTestClock(subscription.stripeTestClockId);
  await ports.db.$executeRaw`
    UPDATE subscription SET test_clock_time = GREATEST(COALESCE(test_clock_time, ${frozenTime}), ${frozenTime})
    WHERE id = ${subscription.id}::uuid AND stripe_test_clock_id = ${subscription.stripeTestClockId}`;
  return frozenTime;
}

function laterOf(a: Date | null | undefined, b: Date | null): Date | null {
  if (!a) return b;
  if (!b) return a;
  return a.getTime() >= b.getTime() ? a : b;
}

/**
 * Re-reads a subscription from Stripe and upserts Minutely's copy (status, price and package, period,
 * cancellation, scheduled change). When a change to a package with fewer agents has taken effect, agents
 * beyond the new limit are deactivated (the ones the customer chose to keep stay). Returns null for a
 * subscription of a customer Minutely does not know.
 */
export async function syncSubscription(ports: Ports, stripeSubscriptionId: string) {
  const ticket = await readTicket(ports.db);
  const remote = await ports.billing.retrieveSubscription(stripeSubscriptionId);
  // The test clock's time (test mode and the emulator): stored on the row, it is the account's now
  // (`accountNow`) wherever a rule depends on time, without asking Stripe on every usage event.
  const stored = remote.testClockId
    ? await ports.db.subscription.findUnique({
        where: { stripeSubscriptionId: remote.id },
        select: { stripeTestClockId: true, testClockTime: true },
      })
    : null;
  const clockTime = laterOf(
    stored?.stripeTestClockId === remote.testClockId ? stored?.testClockTime : null,
    remote.testClockId ? await testClockTimeOf(ports, remote.testClockId) : null,
  );
  // A scheduled change is still to come only if it starts after the account's now (Stripe's time for it):
  // one that took effect on a test clock is gone, not "scheduled" by the wall clock.
  const scheduled = remote.scheduleId
    ? await ports.billing.retrieveScheduledChange(remote.scheduleId, accountNow(ports.clock.now(), clockTime))
    : null;
  // Exhaustive and failing closed: a status this version does not know is stored as "unknown" (no access).
  const status: SubscriptionStatus | "unknown" = mapStripeSubscriptionStatus(remote.status);
  return await ports.db.$transaction(
    async (tx) => {
      const account = await accountForCustomer(tx, remote.customerId, remote.metadata.minutely_account_id);
      if (!account) return null;
      await tx.$executeRaw(transactionLock("account", account.id));
      const planId = await planForPrice(tx, remote.priceId);
      const scheduledPlanId = scheduled ? await planForPrice(tx, scheduled.priceId) : null;
      const discount = remote.discount === undefined ? undefined : await discountFor(tx, remote.discount);
      const before = await tx.subscription.findUnique({
        where: { stripeSubscriptionId: remote.id },
        include: { plan: true },
      });
      // A newer read of this subscription was written while this one was in flight: it stands.
      if (before && before.syncTicket > ticket) return before;
      const data = {
        accountId: account.id,
        planId,
        stripePriceId: remote.priceId,
        currency: billedCurrency(remote),
        status,
        stripeStatus: remote.status,
        currentPeriodStart: remote.currentPeriodStart,
        currentPeriodEnd: remote.currentPeriodEnd,
        cancelAtPeriodEnd: remote.cancelAtPeriodEnd,
        ...pauseData(remote),
        trialStart: remote.trialStart,
        trialEnd: remote.trialEnd,
        defaultPaymentMethodId: remote.defaultPaymentMethodId,
        canceledAt: remote.canceledAt,
        endedAt: remote.endedAt,
        stripeScheduleId: scheduled ? scheduled.scheduleId : null,
        scheduledPlanId,
        scheduledChangeAt: scheduled?.startsAt ?? null,
        stripeTestClockId: remote.testClockId,
        // A test clock only moves forward: an older read never takes it back.
        testClockTime: laterOf(
          before?.stripeTestClockId === remote.testClockId ? before?.testClockTime : null,
          clockTime,
        ),
        syncedAt: ports.clock.now(),
        syncTicket: ticket,
        ...(scheduled ? {} : { scheduledKeepAgentIds: [] }),
        ...discount,
      };
      const row = await tx.subscription.upsert({
        where: { stripeSubscriptionId: remote.id },
        create: { stripeSubscriptionId: remote.id, ...data },
        update: data,
        include: { plan: true },
      });
      // The span of a pause, opened when first seen in force and closed when seen lifted (pause-spans.ts).
      await recordPauseSpan(tx, {
        accountId: account.id,
        subscriptionId: row.id,
        wasInForce: before ? rowPauseInForce(before) : false,
        state: {
          status,
          collection: remote.pauseCollection
            ? { startsAt: pauseStartOf(remote), resumesAt: remote.pauseCollection.resumesAt }
            : null,
          trialEnd: remote.trialEnd,
          currentPeriodStart: remote.currentPeriodStart,
          endedAt: remote.endedAt,
        },
        now: accountNow(ports.clock.now(), data.testClockTime),
      });
      if (before && before.planId !== planId) {
        await settleCurrentPeriodPlan(tx, account.id);
        await enforceAgentLimit(
          tx,
          account.id,
          row.plan.agentsAllowed,
          before.scheduledKeepAgentIds,
          ports.clock.now(),
        );
      }
      return row;
    },
    { timeout: 20_000 },
  );
}

/**
 * The subscription's discount as Minutely's coupon and code. A coupon Minutely did not create (made in
 * Stripe's dashboard) is mirrored as its discount id and end only.
 */
async function discountFor(db: Db, discount: ProviderDiscount | null) {
  if (!discount)
    return { couponId: null, promotionCodeId: null, stripeDiscountId: null, discountEndsAt: null };
  const [coupon, code] = await Promise.all([
    db.coupon.findUnique({ where: { stripeCouponId: discount.couponId }, select: { id: true } }),
    discount.promotionCodeId
      ? db.promotionCode.findUnique({
          where: { stripePromotionCodeId: discount.promotionCodeId },
          select: { id: true },
        })
      : null,
  ]);
  return {
    couponId: coupon?.id ?? null,
    promotionCodeId: code?.id ?? null,
    stripeDiscountId: discount.id,
    discountEndsAt: discount.end,
  };
}

/**
 * The collection pause as Stripe has it: its behavior and end, and when it takes effect (Minutely's metadata;
 * a pause set without it, from Stripe's dashboard say, takes effect at once: the subscription's period start).
 */
function pauseData(remote: ProviderSubscription) {
  const pause = remote.pauseCollection;
  if (!pause) return { pauseBehavior: null, pauseStartsAt: null, pauseResumesAt: null };
  return {
    pauseBehavior: pause.behavior,
    pauseStartsAt: pauseStartOf(remote) ?? remote.currentPeriodStart,
    pauseResumesAt: pause.resumesAt,
  };
}

/** When the pause Minutely set takes effect (its metadata); null for a pause set without it. */
function pauseStartOf(remote: ProviderSubscription): Date | null {
  const stamp = remote.metadata[PAUSE_STARTS_AT_KEY];
  const startsAt = stamp ? new Date(stamp) : null;
  return startsAt && !Number.isNaN(startsAt.getTime()) ? startsAt : null;
}

function invoiceData(invoice: ProviderInvoice) {
  return {
    number: invoice.number,
    status: invoiceStatusOf(invoice.status),
    billingReason: invoice.billingReason,
    currency: invoice.currency,
    subtotalCents: invoice.subtotal,
    totalCents: invoice.total,
    amountDueCents: invoice.amountDue,
    amountPaidCents: invoice.amountPaid,
    discountCents: invoice.totalDiscount,
    taxCents: invoice.tax,
    hostedInvoiceUrl: invoice.hostedInvoiceUrl,
    invoicePdfUrl: invoice.invoicePdf,
    periodStart: invoice.periodStart,
    periodEnd: invoice.periodEnd,
    issuedAt: invoice.created,
    paidAt: invoice.paidAt,
    // Read with the invoice's payments expanded; a read without them keeps what was stored.
    ...(invoice.paymentIntentId ? { stripePaymentIntentId: invoice.paymentIntentId } : {}),
    lines: storedLines(invoice.lines),
  };
}

/** Upserts an invoice into BillingHistory from what Stripe says now. */
export async function upsertInvoice(db: Db, invoice: ProviderInvoice) {
  const account = await accountForCustomer(db, invoice.customerId);
  if (!account) return null;
  const subscription = invoice.subscriptionId
    ? await db.subscription.findUnique({ where: { stripeSubscriptionId: invoice.subscriptionId } })
    : null;
  const data = { ...invoiceData(invoice), accountId: account.id, subscriptionId: subscription?.id ?? null };
  return await db.billingHistory.upsert({
    where: { stripeInvoiceId: invoice.id },
    create: { stripeInvoiceId: invoice.id, ...data },
    update: data,
  });
}

export async function syncInvoice(ports: Ports, stripeInvoiceId: string) {
  return await upsertInvoice(ports.db, await ports.billing.retrieveInvoice(stripeInvoiceId));
}

/** Brings an account's recent invoices in line with Stripe (after actions, and on the billing page). */
export async function syncRecentInvoices(ports: Ports, accountId: string, limit = 24): Promise<void> {
  const account = await ports.db.account.findUnique({ where: { id: accountId } });
  if (!account?.stripeCustomerId) return;
  for (const invoice of await ports.billing.listInvoices(account.stripeCustomerId, limit)) {
    await upsertInvoice(ports.db, invoice);
  }
}

/** A period is stale once it ended this long ago (Stripe renews and notifies within minutes). */
const STALE_AFTER_MS = 15 * 60 * 1000;
/** A stale subscription is re-read at most this often while Stripe still reports the old period. */
const RESYNC_EVERY_MS = 6 * 60 * 60 * 1000;

/**
 * Re-reads from Stripe the live subscriptions whose current period ended and that were not read since (or
 * not for hours). Subscriptions on a Stripe test clock keep the clock's time, not ours, and are skipped.
 */
export async function resyncStaleSubscriptions(
  ports: Ports,
  options: { limit?: number } = {},
): Promise<{ resynced: string[]; failed: { id: string; error: string; cause: unknown }[] }> {
  const now = ports.clock.now();
  const staleBefore = new Date(now.getTime() - STALE_AFTER_MS);
  const resyncBefore = new Date(now.getTime() - RESYNC_EVERY_MS);
  const stale = await ports.db.$queryRaw<{ id: string }[]>`
    SELECT stripe_subscription_id AS id FROM subscription
    WHERE status IN ('active', 'trialing', 'past_due')
      AND stripe_test_clock_id IS NULL
      AND current_period_end < ${staleBefore}
      AND (synced_at < current_period_end OR synced_at < ${resyncBefore})
    ORDER BY current_period_end
    LIMIT ${options.limit ?? 200}`;
  const resynced: string[] = [];
  const failed: { id: string; error: string; cause: unknown }[] = [];
  for (const { id } of stale) {
    try {
      await syncSubscription(ports, id);
      resynced.push(id);
    } catch (error) {
      failed.push({ id, error: error instanceof Error ? error.message : String(error), cause: error });
    }
  }
  return { resynced, failed };
}
