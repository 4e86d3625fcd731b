// Customer subscription actions, end to end through Stripe. Each action: takes the account's action
// lock (a concurrent conflicting action gets a clear CONFLICT), returns at once when the desired state
// already holds (so a retried request or a double click changes nothing), checks the transition with the
// pure state machine, calls Stripe with an idempotency key, then re-reads Stripe into Minutely's tables.
// Keys of actions that charge (subscribe, upgrade) are derived from the request, so a retry can never
// charge twice; actions that only set a state (cancel, resume, schedule) are safe to repeat and get a
// fresh key per attempt (a derived key could replay a stale answer after, say, cancel-resume-cancel).
import { randomUUID } from "node:crypto";
import type { BillingHistory, SubscriptionPlan, Subscription as SubscriptionRow } from "@minutely/db";
import {
  type ActionDenialCode,
  accountNow,
  agentsToKeepOnDowngrade,
  billingReasonLabel,
  type Currency,
  checkAction,
  discountedPrice,
  grantsAccess,
  isInTrial,
  isPausedAt,
  needsPaymentAttention,
  parseCurrency,
  promotionCodeKey,
  type SubscriptionAction,
  type SubscriptionSnapshot,
  statusLabel,
  trialEndingSoon,
  trialPlanChange,
} from "@minutely/domain";
import type { Ports } from "../../context.ts";
import { AppError, type AppErrorCode, UpstreamUnavailableError } from "../../errors.ts";
import { DiscountRefusedError, PaymentDeclinedError, type ProrationPreview } from "../../ports/billing.ts";
import { withActionLock } from "../action-lock.ts";
import {
  accountBillingCurrency,
  accountHasTaxLocation,
  assertBillableIn,
  assertRequestedCurrency,
  authoritativeBillingCurrency,
  fromCurrencyConflict,
  fromTaxLocationRequired,
  invoiceLinesOf,
  purchaseCurrency,
  resolveDuplicateSubscriptions,
  stripeNowFor,
  syncInvoice,
  syncRecentInvoices,
  syncSubscription,
} from "../billing/index.ts";
import { assertMayBuy } from "../buy-gate.ts";
import {
  checkPromotionCode,
  couponSummary,
  offOf,
  type PackageView,
  type PlanRow,
  packageViewIn,
  stripePriceIn,
  subscribedPackageView,
  toPackageView,
  WITH_CURRENCY_PRICES,
  WITH_SUBSCRIBED_PRICES,
} from "../catalog/index.ts";
import { collectionPauseOf, enqueueOverageReport, withdrawCurrentOverage } from "../metering/index.ts";
import { currentSubscription } from "./account-subscription.ts";
import {
  claimTrialCard,
  keepTrialCardOrEndTrial,
  queueTrialRefusedMail,
  recordTrialCard,
  trialFor,
} from "./trials.ts";

export { withActionLock };

type Subscription = NonNullable<Awaited<ReturnType<typeof currentSubscription>>>;

const DENIAL_STATUS: Record<ActionDenialCode, AppErrorCode> = {
  NO_SUBSCRIPTION: "PRECONDITION_FAILED",
  ALREADY_SUBSCRIBED: "CONFLICT",
  NOT_AN_UPGRADE: "BAD_REQUEST",
  NOT_A_DOWNGRADE: "BAD_REQUEST",
  SAME_PLAN: "BAD_REQUEST",
  SAME_PRICE: "BAD_REQUEST",
  PLAN_ARCHIVED: "BAD_REQUEST",
  NOT_CANCELLING: "PRECONDITION_FAILED",
  ALREADY_CANCELLING: "CONFLICT",
  CANCELLATION_PENDING: "CONFLICT",
  NO_SCHEDULED_CHANGE: "PRECONDITION_FAILED",
  CHANGE_ALREADY_SCHEDULED: "CONFLICT",
  PAYMENT_REQUIRED: "PAYMENT_REQUIRED",
  STATUS_UNKNOWN: "CONFLICT",
  TARGET_REQUIRED: "BAD_REQUEST",
  CURRENT_PLAN_UNKNOWN: "CONFLICT",
  CURRENCY_MISMATCH: "CONFLICT",
  INVALID_ACTION: "BAD_REQUEST",
};

const TARGET_CODES = new Set<ActionDenialCode>([
  "NOT_AN_UPGRADE",
  "NOT_A_DOWNGRADE",
  "SAME_PLAN",
  "SAME_PRICE",
  "PLAN_ARCHIVED",
  "TARGET_REQUIRED",
  "CURRENCY_MISMATCH",
]);

export interface AccountRef {
  accountId: string;
  email: string;
  name: string;
  /** Whether the buyer's email address is verified (the viewer's); absent: not known (jobs, tools). */
  emailVerified?: boolean | undefined;
}

/**
 * What the subscription pays a month: its own Stripe price's amount (a subscriber keeps their price after an
 * admin changes the package's, until they change package), in its currency; null when the package no longer
 * sells in it.
 */
function subscribedPriceOf(sub: Subscription) {
  const currency = parseCurrency(sub.currency);
  if (!currency || !packageViewIn(sub.plan, currency)) return null;
  return subscribedPackageView(sub.plan, sub).monthlyPrice;
}

function snapshotOf(sub: Subscription | null): SubscriptionSnapshot {
  if (!sub)
    return {
      status: "none",
      planPrice: null,
      cancelAtPeriodEnd: false,
      scheduledChange: null,
      currentPeriodEnd: null,
    };
  return {
    status: sub.status,
    // The subscription's price in its own currency (a EUR subscriber's Pro is €95, not the package's $99);
    // none when the package no longer has one (the machine then refuses plan changes: CURRENT_PLAN_UNKNOWN).
    planPrice: subscribedPriceOf(sub),
    planName: sub.plan.name,
    cancelAtPeriodEnd: sub.cancelAtPeriodEnd,
    scheduledChange:
      sub.scheduledPlan && sub.scheduledChangeAt
        ? { toPlanName: sub.scheduledPlan.name, effectiveAt: sub.scheduledChangeAt }
        : null,
    currentPeriodEnd: sub.currentPeriodEnd,
  };
}

/** Checks the action with the state machine; `target` is the target package priced in the currency it would bill in. */
function check(sub: Subscription | null, action: SubscriptionAction, target?: PackageView) {
  const result = checkAction(
    snapshotOf(sub),
    action,
    target ? { monthlyPrice: target.monthlyPrice, active: target.active, name: target.name } : undefined,
  );
  if (!result.ok) {
    throw new AppError(
      DENIAL_STATUS[result.code],
      result.message,
      TARGET_CODES.has(result.code) ? "packageId" : undefined,
    );
  }
}

/**
 * A plan change's target in the subscription's currency: its price in that currency and the Stripe price
 * that sells it in it. A package without a price in the subscription's currency (or the account's billing
 * currency, should they differ) is refused with a 409 naming packageId before Stripe is asked anything; one
 * whose Stripe price in that currency the catalog sync has not made yet is a 503 to retry.
 */
async function targetIn(
  ports: Ports,
  accountId: string,
  current: Pick<Subscription, "currency">,
  target: Awaited<ReturnType<typeof loadTarget>>,
): Promise<{ view: PackageView; priceId: string }> {
  const currency = parseCurrency(current.currency);
  if (!currency) throw new Error(`a subscription bills in an unsupported currency "${current.currency}"`);
  assertBillableIn(await accountBillingCurrency(ports, accountId), toPackageView(target));
  assertBillableIn(currency, toPackageView(target));
  const view = packageViewIn(target, currency);
  if (!view) throw new Error(`package ${target.id}: no price in ${currency} after the check`);
  return { view, priceId: stripePriceFor(target, currency) };
}

/** The Stripe price selling the package in `currency`, or a 503 to retry while the catalog sync makes it. */
function stripePriceFor(target: Awaited<ReturnType<typeof loadTarget>>, currency: Currency): string {
  const priceId = stripePriceIn(target, currency);
  if (!priceId) {
    throw new UpstreamUnavailableError(
      `${target.name} is not available for purchase in ${currency.toUpperCase()} yet; try again shortly.`,
      60,
    );
  }
  return priceId;
}

async function loadTarget(ports: Ports, packageId: string | undefined) {
  if (!packageId) throw new AppError("BAD_REQUEST", "Choose a package.", "packageId");
  const plan = await ports.db.subscriptionPlan.findUnique({
    where: { id: packageId },
    include: WITH_CURRENCY_PRICES,
  });
  if (!plan) throw new AppError("NOT_FOUND", "No such package.", "packageId");
  if (!plan.active) throw new AppError("BAD_REQUEST", `${plan.name} is no longer offered.`, "packageId");
  if (!plan.stripePriceId) {
    // Its Stripe price is still being made (Stripe was unreachable when it was created): the catalog sync
    // retries every 5 minutes, and a 503 with Retry-After tells the client when to ask again.
    throw new UpstreamUnavailableError(
      `${plan.name} is not available for purchase yet; try again shortly.`,
      60,
    );
  }
  return plan;
}

function fromDeclined(error: unknown): never {
  if (error instanceof PaymentDeclinedError)
    throw new AppError("PAYMENT_REQUIRED", error.message, "paymentMethodId");
  throw error;
}

/**
 * The account's Stripe customer, created on first use. Saved as soon as Stripe has it, even when the action
 * that needed it then fails: it is a real customer with nothing charged, and a retry reuses it (the key
 * also replays the creation itself when its answer was lost), so customers are never duplicated.
 */
export async function ensureCustomer(
  ports: Ports,
  account: AccountRef,
): Promise<{ customerId: string; existed: boolean }> {
  const row = await ports.db.account.findUniqueOrThrow({ where: { id: account.accountId } });
  if (row.stripeCustomerId) return { customerId: row.stripeCustomerId, existed: true };
  const { customerId } = await ports.billing.createCustomer({
    accountId: row.id,
    // Invoices go to the account's billing email when it has one (Account settings).
    email: row.billingEmail ?? account.email,
    name: row.name,
    withTestClock: ports.settings.useTestClocks ? ports.clock.now() : null,
    idempotencyKey: `minutely-account-${row.id}-customer`,
  });
  await ports.db.account.update({ where: { id: row.id }, data: { stripeCustomerId: customerId } });
  return { customerId, existed: false };
}

/**
 * Stripe is the system of record: a subscription whose creation answer was lost (a timeout, a reset, a
 * 5xx after the work was done) exists there although this database never heard of it. Syncing it before
 * subscribing means a retry adopts it instead of charging again, whatever key or card the retry carries.
 * Returns whether any was adopted.
 */
async function adoptUnknownSubscriptions(ports: Ports, accountId: string, customerId: string) {
  const known = await ports.db.subscription.findMany({
    where: { accountId },
    select: { stripeSubscriptionId: true },
  });
  const knownIds = new Set(known.map((s) => s.stripeSubscriptionId));
  const unknown = (await ports.billing.listSubscriptions(customerId)).filter((s) => !knownIds.has(s.id));
  for (const remote of unknown) {
    await syncSubscription(ports, remote.id);
    // A trial started with a card given up front whose answer was lost: its request never recorded the card
    // as the trial's, so the card would start another account's trial (one trial per card: see trials.ts).
    await claimTrialCard(ports, remote.id);
  }
  return unknown.length > 0;
}

/** The overview's pause: its window and whether it is in effect at the account's now. */
function pauseOverviewOf(sub: SubscriptionRow, wallNow: Date): SubscriptionOverview["pause"] {
  const pause = collectionPauseOf(sub);
  if (!pause) return null;
  const now = accountNow(wallNow, sub.testClockTime);
  return { ...pause, paused: isPausedAt(sub.status, pause, now) };
}

/** Refuses a plan change while a pause is set: an upgrade's charge would be voided with collection paused. */
function assertNotPaused(current: SubscriptionRow): void {
  if (collectionPauseOf(current)) {
    throw new AppError("CONFLICT", "Your subscription is paused: resume it before changing packages.");
  }
}

const isOn = (sub: Subscription | null, planId: string) =>
  sub !== null && sub.planId === planId && grantsAccess(sub.status);

export type SubscribeResult =
  | { kind: "checkout"; url: string; sessionId: string }
  | { kind: "subscribed"; subscription: SubscriptionOverview };

/**
 * Subscribes the account to a package: through hosted Checkout (returns its URL), or directly with a
 * payment method (pm_card_visa, say). A declined card, or one needing authentication, leaves nothing behind.
 */
export async function subscribe(
  ports: Ports,
  account: AccountRef,
  input: {
    packageId: string | undefined;
    paymentMethodId?: string | undefined;
    requestKey?: string | undefined;
    /** A promotion code typed on the package page: checked now, applied in Checkout or to the subscription. */
    promotionCode?: string | undefined;
    /**
     * The currency to buy in (usd, eur, gbp); absent: the account's billing currency, else the package's own.
     * Another than the account's, or one the package is not sold in: 409 naming currency.
     */
    currency?: Currency | undefined;
  },
): Promise<SubscribeResult> {
  assertMayBuy(ports, account);
  const target = await loadTarget(ports, input.packageId);
  // The code is checked in the currency the purchase is made in (an amount off applies in its own only).
  const codeCurrency =
    input.currency ??
    (await accountBillingCurrency(ports, account.accountId)) ??
    toPackageView(target).monthlyPrice.currency;
  const code = input.promotionCode
    ? await acceptedCode(ports, input.promotionCode, target.id, account.accountId, codeCurrency)
    : null;
  return await withActionLock(ports, account.accountId, async () => {
    // A currency the account cannot buy in is refused whatever else holds (already subscribed, a retry).
    const billingCurrency = await accountBillingCurrency(ports, account.accountId);
    assertRequestedCurrency(billingCurrency, input.currency, toPackageView(target));
    const current = await currentSubscription(ports.db, account.accountId);
    if (isOn(current, target.id)) {
      return {
        kind: "subscribed" as const,
        subscription: await subscriptionOverview(ports, account.accountId),
      };
    }
    assertBillableIn(billingCurrency, toPackageView(target));
    // The currency bought in: the one asked for, else the account's, else the package's own.
    let currency = purchaseCurrency(billingCurrency, input.currency, toPackageView(target));
    check(current, "subscribe", packageViewIn(target, currency) ?? toPackageView(target));
    const { customerId, existed } = await ensureCustomer(ports, account);
    // A customer made just now has no subscriptions; an older one may have one from a lost answer.
    if (existed && (await adoptUnknownSubscriptions(ports, account.accountId, customerId))) {
      // What was adopted (a Checkout paid a moment ago in another tab) may have fixed the account's currency:
      // a purchase asked in another is refused, not answered with that subscription.
      assertRequestedCurrency(
        await accountBillingCurrency(ports, account.accountId),
        input.currency,
        toPackageView(target),
      );
      const adopted = await currentSubscription(ports.db, account.accountId);
      if (isOn(adopted, target.id)) {
        await syncRecentInvoices(ports, account.accountId, 5);
        return {
          kind: "subscribed" as const,
          subscription: await subscriptionOverview(ports, account.accountId),
        };
      }
      check(adopted, "subscribe", packageViewIn(target, currency) ?? toPackageView(target));
    }
    const view = toPackageView(target);
    // Stripe knows the customer's currency even when this database does not yet (a Checkout paid a moment
    // ago, a sync that was lost): a page whose Pay button Stripe would refuse is never opened.
    if (existed) {
      const known = await authoritativeBillingCurrency(ports, account.accountId, customerId);
      assertRequestedCurrency(known, input.currency, view);
      assertBillableIn(known, view);
      currency = purchaseCurrency(known, input.currency, view);
    }
    // The package's Stripe price in that currency (each currency has its own price at Stripe).
    const priceId = stripePriceFor(target, currency);
    const attempt =
      input.requestKey ??
      `n${await ports.db.subscription.count({ where: { accountId: account.accountId } })}`;
    // A card given up front is known before Stripe is asked: its fingerprint decides whether it had a trial.
    const fingerprint =
      input.paymentMethodId && target.trialDays !== null
        ? await ports.billing.paymentMethodFingerprint(input.paymentMethodId).catch(() => null)
        : null;
    // One trial per account, ever (and per card): see trials.ts.
    const eligibility = await trialFor(ports, account.accountId, target, fingerprint);
    const trial = eligibility.eligible ? eligibility.trial : null;
    // The card is part of the key: retrying with the same card replays the answer, another card is a new try.
    // So is the trial: a retry asks Stripe the same, and a request without it is another attempt.
    // So is the currency (its own price at Stripe): the package's own keeps the key it always had.
    const key = `minutely-${account.accountId}-subscribe-${target.id}-${attempt}-${input.paymentMethodId ?? "checkout"}${code ? `-${code.promotionCodeId}` : ""}${trial ? `-trial${trial.days}` : ""}${currency === view.monthlyPrice.currency ? "" : `-${currency}`}`;
    const metadata = { minutely_account_id: account.accountId, minutely_plan_id: target.id };
    // Stripe Tax on a subscription made without Checkout needs the billing address Stripe holds (Checkout
    // asks for it on its page): see tax-details.ts.
    const automaticTax = existed && (await accountHasTaxLocation(ports, customerId));
    // A trial without a card starts at once, with no Checkout page: nothing is charged and nothing is asked.
    if (!input.paymentMethodId && trial && !trial.requiresCard) {
      await ports.billing.expireOtherSubscriptionCheckouts(customerId, null, `${key}-expire`);
      const created = await ports.billing
        .createSubscription({
          customerId,
          priceId,
          stripePromotionCodeId: code?.stripePromotionCodeId ?? null,
          paymentMethodId: null,
          trialDays: trial.days,
          automaticTax,
          metadata,
          idempotencyKey: key,
        })
        .catch((error: unknown) => fromCurrencyConflict(error, view))
        .catch(fromTaxLocationRequired);
      await syncSubscription(ports, created.id);
      await syncRecentInvoices(ports, account.accountId, 5);
      return {
        kind: "subscribed" as const,
        subscription: await subscriptionOverview(ports, account.accountId),
      };
    }
    if (!input.paymentMethodId) {
      const base = ports.settings.appUrl;
      const open = (idempotencyKey: string) =>
        ports.billing
          .createSubscriptionCheckout({
            customerId,
            priceId,
            stripePromotionCodeId: code?.stripePromotionCodeId ?? null,
            trialDays: trial?.days ?? null,
            successUrl: `${base}/billing/return?session_id={CHECKOUT_SESSION_ID}`,
            cancelUrl: `${base}/packages?checkout=cancelled`,
            metadata,
            idempotencyKey,
          })
          .catch((error: unknown) => fromDiscountRefused(ports, error, input.promotionCode, target.id))
          .catch((error: unknown) => fromCurrencyConflict(error, view));
      let session = await open(`${key}-checkout`);
      // The key may replay a page this attempt opened before that another page (another tab, another
      // currency) has expired since: Stripe answers it as it was, so its state is read, and an expired one is
      // followed by a new page whose key names it (a retry of this request finds the same one).
      for (let round = 0; round < MAX_CHECKOUT_REOPENINGS; round += 1) {
        const state = await ports.billing.retrieveCheckout(session.sessionId);
        if (state.status !== "expired") break;
        session = await open(`${key}-checkout-after-${session.sessionId}`);
      }
      // An admin may have removed the package's price in this currency while the page was being opened (the
      // sync expires the pages open once the removal is saved): a page opened after that is expired here.
      const stillSold = await ports.db.subscriptionPlanPrice.count({
        where: { planId: target.id, currency },
      });
      if (stillSold === 0) {
        await ports.billing.expireOtherSubscriptionCheckouts(customerId, null, `${key}-unsold`);
        throw new AppError(
          "CONFLICT",
          `${target.name} is no longer sold in ${currency.toUpperCase()}.`,
          "currency",
        );
      }
      // Only the newest page can be paid: two pages paid would be two subscriptions (and two charges).
      await ports.billing.expireOtherSubscriptionCheckouts(customerId, session.sessionId, `${key}-expire`);
      return { kind: "checkout" as const, url: session.url, sessionId: session.sessionId };
    }
    // A Checkout page opened earlier must not be payable after this (the webhook guard would have to refund
    // it). Expired before anything is charged, so Stripe failing here changes nothing and a retry is safe.
    await ports.billing.expireOtherSubscriptionCheckouts(customerId, null, `${key}-expire`);
    const paymentMethodId = await ports.billing
      .attachDefaultPaymentMethod(customerId, input.paymentMethodId, `${key}-pm-${input.paymentMethodId}`)
      .catch(fromDeclined);
    const created = await ports.billing
      .createSubscription({
        customerId,
        priceId,
        stripePromotionCodeId: code?.stripePromotionCodeId ?? null,
        paymentMethodId,
        trialDays: trial?.days ?? null,
        automaticTax,
        metadata,
        idempotencyKey: key,
      })
      .catch(fromDeclined)
      .catch((error: unknown) => fromDiscountRefused(ports, error, input.promotionCode, target.id))
      .catch((error: unknown) => fromCurrencyConflict(error, view))
      .catch(fromTaxLocationRequired);
    await syncSubscription(ports, created.id);
    if (trial && fingerprint) {
      // The card this trial started with: it starts no other account's trial. Another account may have
      // started a trial with this card at the same moment: one of them keeps it, the other's trial ends.
      await keepTrialCardOrEndTrial(ports, created.id, fingerprint);
    } else if (trial) {
      // The card's fingerprint could not be read before Stripe was asked (a failed look-up is not "unused"):
      // it is read now from the subscription's card, and a card that had a trial elsewhere ends this one.
      await claimTrialCard(ports, created.id);
    } else if (!eligibility.eligible && eligibility.reason === "CARD_HAD_TRIAL") {
      // The package page offered this account a trial; the card had one elsewhere, so it started paid.
      await queueTrialRefusedMail(ports, created.id);
    }
    await syncRecentInvoices(ports, account.accountId, 5);
    return {
      kind: "subscribed" as const,
      subscription: await subscriptionOverview(ports, account.accountId),
    };
  });
}

/**
 * How many expired Checkout pages one subscribe request follows with a new one (each time a page another tab
 * opened expired the one this request's key replays); a page expired after that many is answered as it is.
 */
const MAX_CHECKOUT_REOPENINGS = 5;

/**
 * A code that discounts the package now, or a 400 naming `promotionCode` and why it is refused. Checked before
 * the action lock, so a double click with a bad code is two 400s. A refused code that the account's
 * subscription to the package was redeemed with is a retry whose first try went through (its redemption may
 * have used the code up): null, and subscribe answers with the subscription.
 */
async function acceptedCode(
  ports: Ports,
  typed: string,
  packageId: string,
  accountId: string,
  currency: Currency,
) {
  const check = await checkPromotionCode(ports, { code: typed, packageId, currency }).catch(
    (error: unknown) => {
      // No price in that currency: the purchase itself is refused below with the reason (409 naming currency).
      if (error instanceof AppError && error.field === "currency") return null;
      throw error;
    },
  );
  if (check === null) return null;
  if (check.valid) return check;
  const current = await currentSubscription(ports.db, accountId);
  if (isOn(current, packageId) && current?.promotionCodeId) {
    const redeemed = await ports.db.promotionCode.findUnique({ where: { id: current.promotionCodeId } });
    if (redeemed?.codeKey === promotionCodeKey(typed)) return null;
  }
  throw new AppError("BAD_REQUEST", check.message, "promotionCode");
}

/**
 * Stripe refused the code that Minutely accepted a moment before (another customer took its last use, an
 * admin archived it meanwhile): a 400 naming `promotionCode`, with why as the check now sees it.
 */
async function fromDiscountRefused(
  ports: Ports,
  error: unknown,
  typed: string | undefined,
  packageId: string,
): Promise<never> {
  if (!(error instanceof DiscountRefusedError) || typed === undefined) throw error;
  const now = await checkPromotionCode(ports, { code: typed, packageId }).catch(() => null);
  throw new AppError(
    "BAD_REQUEST",
    now && !now.valid
      ? now.message
      : `The promotion code "${typed.trim()}" can no longer be used. Remove it or try another.`,
    "promotionCode",
  );
}

/** The return from hosted Checkout: sync at once so the page does not wait for webhooks. */
export async function completeCheckout(ports: Ports, accountId: string, sessionId: string) {
  const session = await ports.billing.retrieveCheckout(sessionId).catch((error: unknown) => {
    // Stripe being unreachable is a 503 to retry, not "no such session".
    if (error instanceof AppError) throw error;
    throw new AppError("NOT_FOUND", "No such checkout session.", "sessionId");
  });
  const account = await ports.db.account.findUnique({ where: { id: accountId } });
  if (!account?.stripeCustomerId || session.customerId !== account.stripeCustomerId || account.deletedAt) {
    throw new AppError("NOT_FOUND", "No such checkout session.", "sessionId");
  }
  await applyCheckout(ports, accountId, sessionId, session);
  // A second page paid for an account that already had a subscription: canceled and refunded at once.
  const duplicates = await resolveDuplicateSubscriptions(ports, accountId);
  await syncRecentInvoices(ports, accountId, 5);
  return {
    status: session.status,
    mode: session.mode,
    subscription: await subscriptionOverview(ports, accountId),
    duplicatesRefunded: duplicates,
    purchase:
      session.mode === "subscription" && session.subscriptionId
        ? await describePurchase(ports, session.subscriptionId)
        : null,
  };
}

/**
 * What one Checkout session bought, for its return page: that session's package (not whatever the account
 * has now), and whether it was a second subscription that Minutely canceled and refunded.
 */
async function describePurchase(ports: Pick<Ports, "db">, stripeSubscriptionId: string) {
  const [row, duplicate] = await Promise.all([
    ports.db.subscription.findUnique({
      where: { stripeSubscriptionId },
      include: { plan: { include: WITH_SUBSCRIBED_PRICES } },
    }),
    ports.db.duplicateSubscription.findUnique({ where: { stripeSubscriptionId } }),
  ]);
  return {
    packageName: row?.plan.name ?? null,
    monthlyPrice: row ? subscribedPackageView(row.plan, row).monthlyPrice : null,
    refundedAsDuplicate: duplicate
      ? {
          refundedCents: duplicate.refundedCents,
          currency: duplicate.currency,
          resolved: duplicate.status === "resolved",
        }
      : null,
  };
}

type CheckoutSession = Awaited<ReturnType<Ports["billing"]["retrieveCheckout"]>>;

/**
 * What a completed Checkout session means: a new subscription to record, or (setup mode) a new card to put
 * on the subscription and charge its open invoices with. Both the return page and the
 * `checkout.session.completed` webhook apply it, with the same idempotency keys, so it happens once.
 */
async function applyCheckout(ports: Ports, accountId: string, sessionId: string, session: CheckoutSession) {
  if (session.mode === "subscription" && session.subscriptionId) {
    await syncSubscription(ports, session.subscriptionId);
    // A trial started in Checkout: its card gets one trial, whichever account it comes from.
    await claimTrialCard(ports, session.subscriptionId);
  }
  if (session.mode === "setup" && session.paymentMethodId) {
    const current = await currentSubscription(ports.db, accountId);
    if (current) {
      await ports.billing
        .useForSubscription(
          current.stripeSubscriptionId,
          session.paymentMethodId,
          `minutely-${accountId}-setup-${sessionId}`,
        )
        .catch(fromDeclined);
      await syncSubscription(ports, current.stripeSubscriptionId);
      // A trial started without a card goes on with this one: it is the trial's card (one trial per card).
      await recordTrialCard(ports, current.stripeSubscriptionId, session.paymentMethodId);
    }
  }
}

/**
 * The `checkout.session.completed` webhook: the customer may close the tab before the return page loads,
 * and the new card must still reach the subscription. A card declined here stays declined (the subscription
 * stays past due and the customer was told on the page); it is not retried.
 */
export async function applyCompletedCheckout(ports: Ports, sessionId: string): Promise<void> {
  const session = await ports.billing.retrieveCheckout(sessionId);
  if (session.status !== "complete" || !session.customerId) return;
  const account = await ports.db.account.findUnique({ where: { stripeCustomerId: session.customerId } });
  if (!account) return;
  // A card saved on a setup page that completed racing the account's deletion (its webhook arriving after):
  // nothing puts it to work for the deleted account, pays its invoices or resumes its subscription (the
  // deletion detached it anyway). A subscription paid racing the deletion was canceled and refunded by it;
  // syncing records it canceled.
  if (account.deletedAt && session.mode !== "subscription") return;
  try {
    await applyCheckout(ports, account.id, sessionId, session);
  } catch (error) {
    if (error instanceof AppError && error.code === "PAYMENT_REQUIRED") return;
    throw error;
  }
  await syncRecentInvoices(ports, account.id, 5);
}

export async function liveSubscription(ports: Ports, accountId: string): Promise<Subscription> {
  const current = await currentSubscription(ports.db, accountId);
  if (!current)
    throw new AppError(
      "PRECONDITION_FAILED",
      "This account has no subscription yet; choose a package first.",
    );
  return current;
}

/** Seconds precision, as Stripe's proration_date. */
const toSecond = (date: Date) => new Date(Math.floor(date.getTime() / 1000) * 1000);

export interface UpgradePreview extends ProrationPreview {
  packageId: string;
  packageName: string;
}

/** Stripe's proration preview for an upgrade now; the same prorationDate must be sent to confirm. */
export async function previewUpgrade(
  ports: Ports,
  accountId: string,
  packageId: string,
): Promise<UpgradePreview> {
  const target = await loadTarget(ports, packageId);
  const current = await liveSubscription(ports, accountId);
  assertNotPaused(current);
  const priced = await targetIn(ports, accountId, current, target);
  check(current, "upgrade", priced.view);
  const stripeNow = await stripeNowFor(ports, current);
  // During a free trial an upgrade is free: the new package at once, nothing charged (trialPlanChange).
  if (isInTrial(current.status, current.trialEnd, stripeNow)) {
    return {
      creditCents: 0,
      chargeCents: 0,
      taxCents: 0,
      totalDueNowCents: 0,
      withdrawnOverageCents: 0,
      currency: priced.view.monthlyPrice.currency,
      prorationDate: toSecond(stripeNow),
      packageId: target.id,
      packageName: target.name,
    };
  }
  const account = await ports.db.account.findUniqueOrThrow({ where: { id: accountId } });
  const remote = await ports.billing.retrieveSubscription(current.stripeSubscriptionId);
  const preview = await ports.billing
    .previewPriceChange({
      customerId: account.stripeCustomerId ?? "",
      subscriptionId: current.stripeSubscriptionId,
      itemId: remote.itemId,
      priceId: priced.priceId,
      prorationDate: toSecond(stripeNow),
      // The upgrade withdraws this period's overage reported so far (the new plan covers the whole period):
      // the preview's total leaves it out, so what it shows is what the upgrade charges.
      withdrawOverage: { accountId, periodStart: current.currentPeriodStart },
    })
    .catch(fromTaxLocationRequired);
  return { ...preview, packageId: target.id, packageName: target.name };
}

/** How long a previewed proration stays valid for confirming. */
const PREVIEW_VALID_MS = 30 * 60 * 1000;

/**
 * The proration date an upgrade is confirmed with (now when omitted), in whole seconds as Stripe takes it.
 * Stripe prorates only within the current period, and a preview is honoured for 30 minutes: anything else
 * (not a time at all, in the future, outside the period, older than the preview's validity) is refused
 * with a 400 naming the field, before Stripe is asked anything.
 */
function checkProrationDate(
  value: Date | undefined,
  now: Date,
  period: { currentPeriodStart: Date; currentPeriodEnd: Date },
): Date {
  if (value !== undefined && !Number.isFinite(value.getTime())) {
    throw new AppError("BAD_REQUEST", "The proration date is not a valid time.", "prorationDate");
  }
  const prorationDate = toSecond(value ?? now);
  if (prorationDate > now) {
    throw new AppError(
      "BAD_REQUEST",
      "The proration date is in the future; use the one of the preview you are confirming.",
      "prorationDate",
    );
  }
  if (prorationDate < period.currentPeriodStart || prorationDate >= period.currentPeriodEnd) {
    throw new AppError(
      "BAD_REQUEST",
      "The proration date is outside the current billing period; preview the upgrade again.",
      "prorationDate",
    );
  }
  if (now.getTime() - prorationDate.getTime() > PREVIEW_VALID_MS) {
    throw new AppError(
      "BAD_REQUEST",
      "This price preview has expired; preview the upgrade again.",
      "prorationDate",
    );
  }
  return prorationDate;
}

/** What an upgrade did, for the confirmation the customer sees: the new plan, what was charged, what is next. */
export interface UpgradeConfirmation {
  packageName: string;
  monthlyPrice: { amount: number; currency: Currency };
  /** The prorated invoice Stripe issued for the upgrade, as Stripe has it now (null if none was found). */
  invoice: {
    id: string;
    number: string | null;
    status: string;
    totalCents: number;
    /** What the card was charged (less when the customer's Stripe balance covered part). */
    amountPaidCents: number;
    currency: string;
    hostedInvoiceUrl: string | null;
    invoicePdfUrl: string | null;
  } | null;
  /** When the next full month on the new plan is charged: the current period's end. */
  nextChargeAt: Date;
}

export type UpgradeResult = SubscriptionOverview & { upgrade: UpgradeConfirmation };

/**
 * The confirmation of an upgrade from Minutely's records (synced from Stripe just before): the invoice
 * Stripe named as the subscription's latest when the price changed, else (a retry that found the upgrade
 * done) the subscription's newest plan-change invoice.
 */
async function upgradeConfirmation(
  ports: Ports,
  accountId: string,
  stripeInvoiceId: string | null,
): Promise<UpgradeResult> {
  const overview = await subscriptionOverview(ports, accountId);
  const sub = await currentSubscription(ports.db, accountId);
  if (!sub || !overview.package || !overview.currentPeriodEnd) {
    throw new AppError("CONFLICT", "The subscription changed meanwhile; reload the page.");
  }
  if (stripeInvoiceId && !(await ports.db.billingHistory.findUnique({ where: { stripeInvoiceId } }))) {
    await syncInvoice(ports, stripeInvoiceId);
  }
  const row = await ports.db.billingHistory.findFirst({
    where: stripeInvoiceId
      ? { stripeInvoiceId, accountId }
      : { subscriptionId: sub.id, billingReason: "subscription_update" },
    orderBy: INVOICE_ORDER,
  });
  return {
    ...overview,
    upgrade: {
      packageName: overview.package.name,
      monthlyPrice: overview.package.monthlyPrice,
      invoice: row
        ? {
            id: row.id,
            number: row.number,
            status: row.status,
            totalCents: row.totalCents,
            amountPaidCents: row.amountPaidCents,
            currency: row.currency,
            hostedInvoiceUrl: row.hostedInvoiceUrl,
            invoicePdfUrl: row.invoicePdfUrl,
          }
        : null,
      nextChargeAt: overview.currentPeriodEnd,
    },
  };
}

export async function upgrade(
  ports: Ports,
  account: AccountRef,
  input: {
    packageId: string | undefined;
    prorationDate?: Date | undefined;
    /**
     * The total the customer confirmed (the preview's `totalDueNowCents`): when the upgrade would now charge
     * another (the billing address, so the tax, changed since the preview), it is refused with a 409 naming
     * `expectedTotalCents` and nothing is changed, so the customer reviews the new total.
     */
    expectedTotalCents?: number | undefined;
  },
): Promise<UpgradeResult> {
  assertMayBuy(ports, account);
  const target = await loadTarget(ports, input.packageId);
  let withdrawnFrom: Date | null = null;
  try {
    return await withActionLock(ports, account.accountId, async () => {
      const current = await liveSubscription(ports, account.accountId);
      if (current.planId === target.id) return await upgradeConfirmation(ports, account.accountId, null);
      assertNotPaused(current);
      const priced = await targetIn(ports, account.accountId, current, target);
      check(current, "upgrade", priced.view);
      const stripeNow = await stripeNowFor(ports, current);
      const prorationDate = checkProrationDate(input.prorationDate, stripeNow, current);
      // During a free trial: no proration and no charge, the trial keeps its end (domain trialPlanChange).
      const prorate =
        trialPlanChange(isInTrial(current.status, current.trialEnd, stripeNow))?.prorate ?? true;
      const remote = await ports.billing.retrieveSubscription(current.stripeSubscriptionId);
      // Already on the new price at Stripe (a retry after the answer was lost): nothing to change or charge,
      // and the subscription's latest invoice is the upgrade's.
      let upgradeInvoiceId = remote.latestInvoiceId;
      if (remote.priceId !== priced.priceId) {
        // The new plan measures the whole current period: overage reported so far under the old one is
        // withdrawn first, or Stripe would put it on the upgrade's invoice (as the preview leaves it out).
        const row = await ports.db.account.findUniqueOrThrow({ where: { id: account.accountId } });
        if (input.expectedTotalCents !== undefined && prorate) {
          const now = await ports.billing
            .previewPriceChange({
              customerId: row.stripeCustomerId ?? "",
              subscriptionId: current.stripeSubscriptionId,
              itemId: remote.itemId,
              priceId: priced.priceId,
              prorationDate,
              withdrawOverage: { accountId: account.accountId, periodStart: current.currentPeriodStart },
            })
            .catch(fromTaxLocationRequired);
          if (now.totalDueNowCents !== input.expectedTotalCents) {
            throw new AppError(
              "CONFLICT",
              `The total due now changed since your preview (the tax changed with your billing address): ` +
                `${priceLabel(now.totalDueNowCents, now.currency)}, not ${priceLabel(input.expectedTotalCents, now.currency)}. Nothing was charged; review the new total and confirm again.`,
              "expectedTotalCents",
            );
          }
        }
        withdrawnFrom = current.currentPeriodStart;
        await withdrawCurrentOverage(ports, {
          accountId: account.accountId,
          customerId: row.stripeCustomerId ?? "",
          periodStart: current.currentPeriodStart,
        });
        const changed = await ports.billing
          .changePriceNow({
            subscriptionId: current.stripeSubscriptionId,
            itemId: remote.itemId,
            priceId: priced.priceId,
            prorationDate,
            prorate,
            idempotencyKey: `minutely-${account.accountId}-upgrade-${current.stripeSubscriptionId}-${target.id}-${prorationDate.getTime()}`,
          })
          .catch(fromDeclined)
          .catch((error: unknown) => fromCurrencyConflict(error, priced.view))
          .catch(fromTaxLocationRequired);
        upgradeInvoiceId = changed.latestInvoiceId;
      }
      await syncSubscription(ports, current.stripeSubscriptionId);
      await syncRecentInvoices(ports, account.accountId, 5);
      return await upgradeConfirmation(ports, account.accountId, upgradeInvoiceId);
    });
  } finally {
    // The period's overage is decided again by the plan that now governs it (the old one when the card
    // was declined, so nothing withdrawn is lost), once the action no longer holds the account.
    if (withdrawnFrom) await enqueueOverageReport(ports.queue, account.accountId, withdrawnFrom);
  }
}

/**
 * Schedules a change to a cheaper package at the end of the period. When the account has more active
 * agents than the package allows, `keepAgentIds` says which stay; the others are deactivated at the change.
 */
export async function downgrade(
  ports: Ports,
  account: AccountRef,
  input: { packageId: string | undefined; keepAgentIds?: string[] | undefined },
) {
  const target = await loadTarget(ports, input.packageId);
  return await withActionLock(ports, account.accountId, async () => {
    const current = await liveSubscription(ports, account.accountId);
    // The same change again (another tab, a retry): nothing is scheduled twice, but the agents chosen are
    // checked as for a first request, and a new choice replaces the stored one (the latest choice wins).
    const alreadyScheduled = current.scheduledPlanId === target.id;
    const priced = await targetIn(ports, account.accountId, current, target);
    if (!alreadyScheduled) {
      assertNotPaused(current);
      check(current, "downgrade", priced.view);
    }
    const active = await ports.db.agent.findMany({
      where: { accountId: account.accountId, active: true },
      select: { id: true },
    });
    if (active.length > target.agentsAllowed && input.keepAgentIds === undefined && !alreadyScheduled) {
      const allows = `${target.agentsAllowed} ${target.agentsAllowed === 1 ? "agent" : "agents"}`;
      throw new AppError(
        "BAD_REQUEST",
        `${target.name} allows ${allows} and ${active.length} are active: choose which agents stay active.`,
        "keepAgentIds",
      );
    }
    const selection = agentsToKeepOnDowngrade(
      active.map((a) => a.id),
      input.keepAgentIds ?? [],
      target.agentsAllowed,
    );
    if (!selection.ok) throw new AppError("BAD_REQUEST", selection.message, "keepAgentIds");
    const keep = active.length > target.agentsAllowed ? (input.keepAgentIds ?? []) : [];
    if (alreadyScheduled) {
      if (input.keepAgentIds !== undefined) {
        await ports.db.subscription.update({
          where: { id: current.id },
          data: { scheduledKeepAgentIds: keep },
        });
      }
      return await subscriptionOverview(ports, account.accountId);
    }
    // A fresh key per attempt is safe: schedulePriceChange re-reads the subscription and reuses a schedule
    // an earlier, failed attempt left, and the SDK's own retries of each call keep that call's key.
    await ports.billing
      .schedulePriceChange({
        subscriptionId: current.stripeSubscriptionId,
        priceId: priced.priceId,
        idempotencyKey: `minutely-${account.accountId}-downgrade-${current.stripeSubscriptionId}-${target.id}-${randomUUID()}`,
      })
      .catch((error: unknown) => fromCurrencyConflict(error, priced.view));
    await syncSubscription(ports, current.stripeSubscriptionId);
    await ports.db.subscription.update({ where: { id: current.id }, data: { scheduledKeepAgentIds: keep } });
    return await subscriptionOverview(ports, account.accountId);
  });
}

export async function cancelScheduledChange(ports: Ports, account: AccountRef) {
  return await withActionLock(ports, account.accountId, async () => {
    const current = await liveSubscription(ports, account.accountId);
    if (!current.stripeScheduleId) return await subscriptionOverview(ports, account.accountId);
    await ports.billing.releaseSchedule(
      current.stripeScheduleId,
      `minutely-${account.accountId}-release-${current.stripeScheduleId}`,
    );
    await syncSubscription(ports, current.stripeSubscriptionId);
    return await subscriptionOverview(ports, account.accountId);
  });
}

/**
 * Cancels at the end of the period (access until then). Stripe refuses to cancel a subscription a schedule
 * manages, so a scheduled downgrade is withdrawn; it is remembered (`resume_scheduled_plan_id`, with the
 * agents to keep) and undoing the cancellation schedules it again.
 */
export async function cancel(ports: Ports, account: AccountRef) {
  return await withActionLock(ports, account.accountId, async () => {
    const current = await liveSubscription(ports, account.accountId);
    if (current.cancelAtPeriodEnd) return await subscriptionOverview(ports, account.accountId);
    check(current, "cancel");
    await ports.db.subscription.update({
      where: { id: current.id },
      data: {
        resumeScheduledPlanId: current.scheduledPlanId,
        resumeKeepAgentIds: current.scheduledPlanId ? current.scheduledKeepAgentIds : [],
      },
    });
    // Stripe refuses to cancel a subscription a schedule manages. Ask Stripe which one does: a downgrade
    // that failed half-way can leave a schedule this database never recorded.
    const remote = await ports.billing.retrieveSubscription(current.stripeSubscriptionId);
    const scheduleId = remote.scheduleId ?? current.stripeScheduleId;
    if (scheduleId) {
      await ports.billing.releaseSchedule(scheduleId, `minutely-${account.accountId}-release-${scheduleId}`);
    }
    await ports.billing.setCancelAtPeriodEnd(
      current.stripeSubscriptionId,
      true,
      `minutely-${account.accountId}-cancel-${current.stripeSubscriptionId}-${randomUUID()}`,
    );
    await syncSubscription(ports, current.stripeSubscriptionId);
    return await subscriptionOverview(ports, account.accountId);
  });
}

/**
 * Undoes a cancellation before the period ends, restoring the state from before it: a downgrade the
 * cancellation withdrew is scheduled again (unless its package is no longer offered or no longer cheaper:
 * then the overview's `withdrawnChange` is cleared and nothing is scheduled).
 */
export async function resume(ports: Ports, account: AccountRef) {
  return await withActionLock(ports, account.accountId, async () => {
    const current = await liveSubscription(ports, account.accountId);
    if (!current.cancelAtPeriodEnd) return await subscriptionOverview(ports, account.accountId);
    check(current, "resume");
    await ports.billing.setCancelAtPeriodEnd(
      current.stripeSubscriptionId,
      false,
      `minutely-${account.accountId}-resume-${current.stripeSubscriptionId}-${randomUUID()}`,
    );
    await syncSubscription(ports, current.stripeSubscriptionId);
    const resumed = await currentSubscription(ports.db, account.accountId);
    const withdrawn = current.resumeScheduledPlanId
      ? await ports.db.subscriptionPlan.findUnique({
          where: { id: current.resumeScheduledPlanId },
          include: WITH_CURRENCY_PRICES,
        })
      : null;
    // The withdrawn package in the subscription's currency: no price in it (removed meanwhile), no downgrade.
    const currency = resumed ? parseCurrency(resumed.currency) : null;
    const withdrawnView = withdrawn && currency ? packageViewIn(withdrawn, currency) : null;
    const withdrawnPriceId = withdrawn && currency ? stripePriceIn(withdrawn, currency) : null;
    if (withdrawn?.active && withdrawnView && withdrawnPriceId && resumed && !resumed.stripeScheduleId) {
      const allowed = checkAction(snapshotOf(resumed), "downgrade", {
        monthlyPrice: withdrawnView.monthlyPrice,
        active: withdrawn.active,
        name: withdrawn.name,
      });
      if (allowed.ok) {
        await ports.billing.schedulePriceChange({
          subscriptionId: current.stripeSubscriptionId,
          priceId: withdrawnPriceId,
          idempotencyKey: `minutely-${account.accountId}-redowngrade-${current.stripeSubscriptionId}-${withdrawn.id}-${randomUUID()}`,
        });
        await syncSubscription(ports, current.stripeSubscriptionId);
        await ports.db.subscription.update({
          where: { id: current.id },
          data: { scheduledKeepAgentIds: current.resumeKeepAgentIds },
        });
      }
    }
    await ports.db.subscription.update({
      where: { id: current.id },
      data: { resumeScheduledPlanId: null, resumeKeepAgentIds: [] },
    });
    return await subscriptionOverview(ports, account.accountId);
  });
}

/**
 * Hosted Checkout in setup mode to replace a failing card; the return syncs and retries open invoices.
 * Under the account's action lock: a deletion running meanwhile (it expires the customer's open Checkout
 * pages and detaches its cards) makes this a 409, and once it is done a 404, so no card page is left open
 * on a deleted account to put a card back on its scrubbed customer.
 */
export async function startPaymentMethodUpdate(ports: Ports, account: AccountRef, requestKey: string) {
  return await withActionLock(ports, account.accountId, async () => {
    const current = await liveSubscription(ports, account.accountId);
    const { customerId } = await ensureCustomer(ports, account);
    const base = ports.settings.appUrl;
    return await ports.billing.createSetupCheckout({
      customerId,
      subscriptionId: current.stripeSubscriptionId,
      // The card is for the subscription's currency (a EUR customer's page, not a USD one).
      currency: current.currency.trim().toLowerCase(),
      successUrl: `${base}/billing/return?session_id={CHECKOUT_SESSION_ID}`,
      cancelUrl: `${base}/billing`,
      idempotencyKey: `minutely-${account.accountId}-setup-${requestKey}`,
    });
  });
}

export interface SubscriptionOverview {
  status: string;
  statusLabel: string;
  grantsAccess: boolean;
  needsPaymentAttention: boolean;
  package: { id: string; name: string; monthlyPrice: { amount: number; currency: Currency } } | null;
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  scheduledChange: { packageId: string; packageName: string; effectiveAt: Date } | null;
  /** A scheduled downgrade the pending cancellation withdrew; undoing the cancellation schedules it again. */
  withdrawnChange: { packageId: string; packageName: string } | null;
  /**
   * The collection pause (see the domain's pause.ts): from `startsAt` (the end of the period paid) calls are
   * denied and nothing is charged until `resumesAt` (null: until resumed); `paused` says it is in effect.
   */
  pause: { startsAt: Date; resumesAt: Date | null; paused: boolean } | null;
  /**
   * The free trial while the subscription is `trialing` (see the domain's trials.ts): when it started and
   * ends, whether its end is 3 days away or less at the account's now (`endingSoon`: the dashboard's "Add a
   * card" banner) and whether a card is on file to convert with. Null otherwise.
   */
  trial: { startedAt: Date | null; endsAt: Date; endingSoon: boolean; cardOnFile: boolean } | null;
  stripeSubscriptionId: string | null;
}

/** The overview with the subscription's discount (`subscription.overview`, an admin applying a coupon). */
export interface SubscriptionOverviewWithDiscount extends SubscriptionOverview {
  discount: SubscriptionDiscount | null;
}

export interface SubscriptionDiscount {
  couponName: string;
  /** "15% off on every invoice" */
  summary: string;
  code: string | null;
  /** When a repeating discount ends; null otherwise. */
  endsAt: Date | null;
  /** The current package's monthly price after the discount (what the next renewal charges before tax). */
  discountedMonthlyPrice: { amount: number; currency: Currency };
}

export async function subscriptionOverview(
  ports: Pick<Ports, "db" | "clock">,
  accountId: string,
): Promise<SubscriptionOverview> {
  const sub = await currentSubscription(ports.db, accountId);
  const resumePlan =
    sub?.cancelAtPeriodEnd && sub.resumeScheduledPlanId
      ? await ports.db.subscriptionPlan.findUnique({ where: { id: sub.resumeScheduledPlanId } })
      : null;
  return subscriptionOverviewOf(sub, resumePlan, ports.clock.now());
}

/**
 * The overview and the subscription's discount: the coupon's terms, the code redeemed (null when an admin
 * applied it), when it ends, and the package's price after it.
 */
export async function subscriptionOverviewWithDiscount(
  ports: Pick<Ports, "db" | "clock">,
  accountId: string,
): Promise<SubscriptionOverviewWithDiscount> {
  const overview = await subscriptionOverview(ports, accountId);
  const sub = overview.stripeSubscriptionId
    ? await ports.db.subscription.findUnique({
        where: { stripeSubscriptionId: overview.stripeSubscriptionId },
      })
    : null;
  const [coupon, code] = await Promise.all([
    sub?.couponId ? ports.db.coupon.findUnique({ where: { id: sub.couponId } }) : null,
    sub?.promotionCodeId ? ports.db.promotionCode.findUnique({ where: { id: sub.promotionCodeId } }) : null,
  ]);
  if (!coupon || !overview.package) return { ...overview, discount: null };
  return {
    ...overview,
    discount: {
      couponName: coupon.name,
      summary: couponSummary(coupon),
      code: code?.code ?? null,
      endsAt: sub?.discountEndsAt ?? null,
      discountedMonthlyPrice: discountedPrice(overview.package.monthlyPrice, offOf(coupon)),
    },
  };
}

/**
 * The overview of the account's current subscription (`currentSubscription`), with the package a pending
 * cancellation withdrew (its `resumeScheduledPlanId`'s, when it has one).
 */
export function subscriptionOverviewOf(
  sub: (SubscriptionRow & { plan: PlanRow; scheduledPlan: SubscriptionPlan | null }) | null,
  resumePlan: Pick<SubscriptionPlan, "id" | "name"> | null,
  /** The wall clock's now (the subscription's test clock time, when ahead, is the account's now). */
  wallNow: Date,
): SubscriptionOverview {
  if (!sub) {
    return {
      status: "none",
      statusLabel: statusLabel("none"),
      grantsAccess: false,
      needsPaymentAttention: false,
      package: null,
      currentPeriodStart: null,
      currentPeriodEnd: null,
      cancelAtPeriodEnd: false,
      scheduledChange: null,
      withdrawnChange: null,
      pause: null,
      trial: null,
      stripeSubscriptionId: null,
    };
  }
  // The package as this subscription is billed: its prices in the subscription's currency.
  const view = subscribedPackageView(sub.plan, sub);
  const pause = pauseOverviewOf(sub, wallNow);
  return {
    status: sub.status,
    // A pause in effect is said as such (the status stays Stripe's: active while collection is paused).
    statusLabel: pause?.paused ? "Paused" : statusLabel(sub.status),
    grantsAccess: grantsAccess(sub.status),
    needsPaymentAttention: needsPaymentAttention(sub.status),
    package: { id: view.id, name: view.name, monthlyPrice: view.monthlyPrice },
    currentPeriodStart: sub.currentPeriodStart,
    currentPeriodEnd: sub.currentPeriodEnd,
    cancelAtPeriodEnd: sub.cancelAtPeriodEnd,
    scheduledChange:
      sub.scheduledPlan && sub.scheduledChangeAt
        ? {
            packageId: sub.scheduledPlan.id,
            packageName: sub.scheduledPlan.name,
            effectiveAt: sub.scheduledChangeAt,
          }
        : null,
    withdrawnChange:
      sub.cancelAtPeriodEnd && sub.resumeScheduledPlanId && resumePlan
        ? { packageId: resumePlan.id, packageName: resumePlan.name }
        : null,
    pause,
    trial:
      sub.status === "trialing" && sub.trialEnd !== null
        ? {
            startedAt: sub.trialStart,
            endsAt: sub.trialEnd,
            endingSoon: trialEndingSoon(sub.trialEnd, accountNow(wallNow, sub.testClockTime)),
            cardOnFile: sub.defaultPaymentMethodId !== null,
          }
        : null,
    stripeSubscriptionId: sub.stripeSubscriptionId,
  };
}

/**
 * Invoices newest first, in a stable order: two created in the same second (an upgrade's proration and a
 * renewal on a test clock, say) are ordered by number, then by Stripe id, and never swap between loads.
 */
export const INVOICE_ORDER = [
  { issuedAt: "desc" as const },
  { number: { sort: "desc" as const, nulls: "last" as const } },
  { stripeInvoiceId: "desc" as const },
];

export async function billingHistory(ports: Pick<Ports, "db">, accountId: string, limit = 24) {
  const [rows, subscriptions, duplicates] = await Promise.all([
    ports.db.billingHistory.findMany({ where: { accountId }, orderBy: INVOICE_ORDER, take: limit }),
    // The account's subscriptions by account (an `include` would look them up by id alone, a query that
    // names no account: on Citus every shard's, docs/scaling.md).
    ports.db.subscription.findMany({
      where: { accountId },
      select: { id: true, stripeSubscriptionId: true },
    }),
    // Minutely refunds only one thing: every payment of a second subscription it canceled (the guard).
    ports.db.duplicateSubscription.findMany({
      where: { accountId, status: "resolved" },
      select: { stripeSubscriptionId: true },
    }),
  ]);
  return billingHistoryOf(
    rows,
    subscriptions,
    duplicates.map((d) => d.stripeSubscriptionId),
  );
}

/**
 * One of the account's invoices with its documents (Stripe's hosted page and PDF) and what was given back on
 * it. The invoice is looked up by id *and* account: another account's id is answered as unknown (404 naming
 * `invoiceId`), so no id reaches another account's documents.
 */
export async function invoiceOf(ports: Pick<Ports, "db">, accountId: string, invoiceId: string) {
  const row = await ports.db.billingHistory.findFirst({ where: { id: invoiceId, accountId } });
  if (!row) throw new AppError("NOT_FOUND", "No such invoice.", "invoiceId");
  const [subscriptions, duplicates, adjustments] = await Promise.all([
    ports.db.subscription.findMany({
      where: { accountId },
      select: { id: true, stripeSubscriptionId: true },
    }),
    ports.db.duplicateSubscription.findMany({
      where: { accountId, status: "resolved" },
      select: { stripeSubscriptionId: true },
    }),
    ports.db.invoiceAdjustment.findMany({
      where: { accountId, billingHistoryId: row.id, status: "succeeded" },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    }),
  ]);
  const [invoice] = billingHistoryOf(
    [row],
    subscriptions,
    duplicates.map((d) => d.stripeSubscriptionId),
  );
  if (!invoice) throw new AppError("NOT_FOUND", "No such invoice.", "invoiceId");
  return {
    ...invoice,
    adjustments: adjustments.map((a) => ({
      id: a.id,
      kind: a.kind,
      amountCents: a.amountCents,
      currency: a.currency,
      reason: a.reason,
      createdAt: a.createdAt,
    })),
  };
}

/**
 * Invoices as the customer sees them, from their rows (in INVOICE_ORDER), the account's subscriptions and
 * the Stripe ids of the second subscriptions Minutely canceled and refunded (resolved duplicates).
 */
export function billingHistoryOf(
  rows: readonly BillingHistory[],
  subscriptions: readonly Pick<SubscriptionRow, "id" | "stripeSubscriptionId">[],
  refundedStripeSubscriptionIds: readonly string[],
) {
  const refundedSubscriptions = new Set(refundedStripeSubscriptionIds);
  const stripeIdOf = new Map(subscriptions.map((s) => [s.id, s.stripeSubscriptionId]));
  return rows.map((r) => ({
    id: r.id,
    number: r.number,
    date: r.issuedAt,
    amountCents: r.totalCents,
    /** Before discounts and tax; subtotalCents - discountCents + taxCents = amountCents. */
    subtotalCents: r.subtotalCents,
    /** What coupons took off (0 or positive). */
    discountCents: r.discountCents,
    /** Tax added on top (Stripe Tax; prices are exclusive of tax). */
    taxCents: r.taxCents,
    amountDueCents: r.amountDueCents,
    amountPaidCents: r.amountPaidCents,
    /**
     * What was paid and refunded, as Stripe has it (an admin's refund, one made in Stripe, or the whole of an
     * invoice of a canceled second subscription).
     */
    refundedCents: Math.max(
      r.refundedCents,
      r.subscriptionId !== null && refundedSubscriptions.has(stripeIdOf.get(r.subscriptionId) ?? "")
        ? r.amountPaidCents
        : 0,
    ),
    /** What credit notes gave back other than by a refund (to the customer's balance). */
    creditedCents: r.creditedCents,
    currency: r.currency,
    status: r.status,
    /** Stripe's reason for the invoice, in words ("Plan change (prorated)"). */
    description: billingReasonLabel(r.billingReason),
    billingReason: r.billingReason,
    hostedInvoiceUrl: r.hostedInvoiceUrl,
    invoicePdfUrl: r.invoicePdfUrl,
    periodStart: r.periodStart,
    periodEnd: r.periodEnd,
    /**
     * What the invoice charges for, line by line, in Stripe's order: they add up to subtotalCents, and each
     * line's discountCents to discountCents.
     */
    lines: invoiceLinesOf(r.lines),
  }));
}

/** An amount in minor units for people, e.g. 238.00 EUR (the currency's own number of decimals). */
function priceLabel(cents: number, currency: string): string {
  const code = currency.toUpperCase();
  const digits =
    new Intl.NumberFormat("en", { style: "currency", currency: code }).resolvedOptions()
      .maximumFractionDigits ?? 2;
  return `${(cents / 10 ** digits).toFixed(digits)} ${code}`;
}
