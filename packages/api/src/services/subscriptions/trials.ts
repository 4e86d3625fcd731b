// Free trials (see docs/billing.md "Free trials"; the rules are packages/domain `trials.ts`). Which
// subscription starts with its package's trial, and how the card a trial started with is remembered.
//
// One trial per account, ever: an account with any subscription that had a trial (`trial_start`, canceled
// ones included) gets no other. One trial per card: a card whose fingerprint started a trial for another
// account starts none (with a card given up front, decided before Stripe is asked; a card typed in Checkout
// is only known after: the sync ends that trial at once, `trial_end: now`, and the card is charged).
import type { SubscriptionPlan } from "@minutely/db";
import {
  type PlanTrial,
  planTrialOf,
  TRIAL_LIMITS,
  type TrialEligibility,
  trialEligibility,
} from "@minutely/domain";
import type { Ports } from "../../context.ts";
import { syncSubscription } from "../billing/index.ts";
import { subscribedPackageView, WITH_SUBSCRIBED_PRICES } from "../catalog/index.ts";
import { ownerOf } from "../owner.ts";

/** Whether the account has ever had a trial (any of its subscriptions, canceled ones included). */
export async function accountHadTrial(ports: Pick<Ports, "db">, accountId: string): Promise<boolean> {
  const found = await ports.db.subscription.findFirst({
    where: { accountId, trialStart: { not: null } },
    select: { id: true },
  });
  return found !== null;
}

/** Whether a card (its fingerprint) started a trial for another account. */
export async function cardHadTrialElsewhere(
  ports: Pick<Ports, "db">,
  accountId: string,
  fingerprint: string | null,
): Promise<boolean> {
  if (fingerprint === null) return false;
  const found = await ports.db.subscription.findFirst({
    where: { trialCardFingerprint: fingerprint, accountId: { not: accountId } },
    select: { id: true },
  });
  return found !== null;
}

/** Whether a new subscription of the account to `plan` starts with the package's trial (and which). */
export async function trialFor(
  ports: Pick<Ports, "db">,
  accountId: string,
  plan: Pick<SubscriptionPlan, "trialDays" | "trialRequiresCard">,
  fingerprint: string | null = null,
): Promise<TrialEligibility> {
  const trial = planTrialOf(plan);
  if (trial === null) return trialEligibility({ trial, accountHadTrial: false });
  const [hadTrial, cardUsed] = await Promise.all([
    accountHadTrial(ports, accountId),
    cardHadTrialElsewhere(ports, accountId, fingerprint),
  ]);
  return trialEligibility({ trial, accountHadTrial: hadTrial, cardHadTrialElsewhere: cardUsed });
}

/** The trial each package would start for the account now (null: none), for the package page. */
export async function trialOffers(
  ports: Pick<Ports, "db">,
  accountId: string,
  packages: readonly { id: string; trial: PlanTrial | null }[],
): Promise<Map<string, PlanTrial | null>> {
  const hadTrial = await accountHadTrial(ports, accountId);
  return new Map(packages.map((p) => [p.id, hadTrial ? null : p.trial]));
}

/**
 * Makes the card (its fingerprint) the trial card of the subscription row, unless another subscription holds
 * it: the column is unique, so of two trials claiming one card at the same moment exactly one wins (the other's
 * write waits for the first to commit, then is refused). True when the card is this row's trial card after.
 */
async function claimCardForTrial(
  ports: Pick<Ports, "db">,
  rowId: string,
  fingerprint: string,
): Promise<boolean> {
  const refused = await ports.db.subscription
    .updateMany({
      where: { id: rowId, trialCardFingerprint: null },
      data: { trialCardFingerprint: fingerprint },
    })
    .then(
      () => false,
      (error: unknown) => {
        if (isTrialCardTaken(error)) return true;
        throw error;
      },
    );
  if (refused) return false;
  const holder = await ports.db.subscription.findUnique({
    where: { trialCardFingerprint: fingerprint },
    select: { id: true },
  });
  return holder?.id === rowId;
}

/** The unique index on the trial card (subscription_trial_card_fingerprint_key) refused the write. */
function isTrialCardTaken(error: unknown): boolean {
  if (typeof error !== "object" || error === null || (error as { code?: unknown }).code !== "P2002") {
    return false;
  }
  return JSON.stringify((error as { meta?: unknown }).meta ?? {}).includes("trial_card_fingerprint");
}

/**
 * A trial that started with a card (given up front, or typed in Checkout): the card becomes the trial's, or,
 * when another account's trial holds it (checked before, or claimed at the same moment by a concurrent
 * subscribe or Checkout), this trial ends at once (`trial_end: now`, the card is charged), as a card that had a
 * trial elsewhere does. Idempotent: a card already this trial's, or a trial already ended, changes nothing;
 * the Stripe call's key is derived from the subscription.
 */
export async function keepTrialCardOrEndTrial(
  ports: Ports,
  stripeSubscriptionId: string,
  fingerprint: string,
): Promise<void> {
  const row = await ports.db.subscription.findUnique({ where: { stripeSubscriptionId } });
  if (!row || row.trialStart === null || row.trialCardFingerprint === fingerprint) return;
  if (await claimCardForTrial(ports, row.id, fingerprint)) return;
  if (row.status === "trialing") {
    await ports.billing.endTrialNow(stripeSubscriptionId, `minutely-${stripeSubscriptionId}-end-trial-card`);
    await syncSubscription(ports, stripeSubscriptionId);
  }
  // Also when a retry finds the trial ended already (the first try may have failed before queueing it).
  await queueTrialRefusedMail(ports, stripeSubscriptionId);
}

/**
 * Queues the mail of notifyTrialRefusedForCard (a job: it reads the first invoice from Stripe, and a Stripe
 * that fails then must neither fail the request that subscribed nor lose the mail). One job per subscription.
 */
export async function queueTrialRefusedMail(
  ports: Pick<Ports, "queue">,
  stripeSubscriptionId: string,
): Promise<void> {
  await ports.queue.enqueue(
    "send-trial-refused-email",
    { stripeSubscriptionId },
    { jobKey: `trial-refused-card:${stripeSubscriptionId}` },
  );
}

/**
 * The owner is told why the free trial the package page offered did not happen, and what was charged: the
 * card had started another account's trial (refused before Stripe was asked, or the trial ended at once).
 * Whoever paid in Checkout saw "free trial" on Stripe's page, so this is never left to the invoice alone.
 * Once per subscription (the outbox's dedupe key). The `send-trial-refused-email` job runs it
 * (queueTrialRefusedMail).
 */
export async function notifyTrialRefusedForCard(ports: Ports, stripeSubscriptionId: string): Promise<void> {
  const row = await ports.db.subscription.findUnique({
    where: { stripeSubscriptionId },
    include: { plan: { include: WITH_SUBSCRIBED_PRICES } },
  });
  if (!row || row.status === "trialing") return;
  const owner = await trialOwnerOf(ports, row.accountId);
  if (!owner) return;
  const monthly = subscribedPackageView(row.plan, row).monthlyPrice;
  const money = (amount: number, currency: string) =>
    `${(amount / 100).toFixed(2)} ${currency.toUpperCase()}`;
  // What the first invoice took, not the list price: a promotion code may have taken part off, tax may have
  // been added, and the charge may have been declined (a card that saves but cannot be charged).
  const remote = await ports.billing.retrieveSubscription(stripeSubscriptionId);
  const invoice = remote.latestInvoiceId ? await ports.billing.retrieveInvoice(remote.latestInvoiceId) : null;
  const first =
    invoice === null
      ? `the first month is billed at ${money(monthly.amount, monthly.currency)} (plus tax where it applies)`
      : invoice.status === "paid"
        ? `the card was charged ${money(invoice.amountPaid, invoice.currency)} for the first month (tax included where it applies)`
        : `the card could not be charged ${money(invoice.amountDue, invoice.currency)} for the first month: ` +
          `update your card in Minutely (Billing > Update card) to pay it and keep your calls running`;
  await ports.mailer.send({
    to: owner.email,
    subject: "Your Minutely subscription started without a free trial",
    text:
      `The card you subscribed to ${row.plan.name} with has already been used for a free trial on another ` +
      `Minutely account, and a card gets one free trial. Your subscription started without a trial: ${first}. It is ` +
      `billed monthly from then on. If you ` +
      `did not mean to subscribe without a trial, cancel in Minutely (Billing): the subscription then ends at ` +
      `the end of the month paid for.`,
    dedupeKey: `trial-refused-card:${stripeSubscriptionId}`,
  });
}

/**
 * After a Checkout that started a trial (the card was typed there, so only known now): the card becomes the
 * trial's, or the trial ends at once when the card started another account's (see keepTrialCardOrEndTrial).
 */
export async function claimTrialCard(ports: Ports, stripeSubscriptionId: string): Promise<void> {
  const row = await ports.db.subscription.findUnique({ where: { stripeSubscriptionId } });
  if (row?.status !== "trialing" || row.trialCardFingerprint !== null) return;
  const remote = await ports.billing.retrieveSubscription(stripeSubscriptionId);
  if (remote.status !== "trialing" || !remote.defaultPaymentMethodId) return;
  const fingerprint = await ports.billing.paymentMethodFingerprint(remote.defaultPaymentMethodId);
  if (fingerprint === null) return;
  await keepTrialCardOrEndTrial(ports, stripeSubscriptionId, fingerprint);
}

/**
 * A card added to a subscription that had a trial without one ("Add a card", during the trial or after it
 * paused): the trial went on with that card, so it is the trial's card and starts no other account's trial.
 * The first card added is kept (a later one changes nothing); a subscription that never had a trial, or whose
 * trial already has its card, is left alone. A card that already started another account's trial stays that
 * trial's card (one account's trial per card); this trial was given without a card and goes on (the gap
 * docs/billing.md names: a trial without a card is decided before any card is known).
 */
export async function recordTrialCard(
  ports: Pick<Ports, "db" | "billing">,
  stripeSubscriptionId: string,
  paymentMethodId: string,
): Promise<void> {
  const row = await ports.db.subscription.findUnique({ where: { stripeSubscriptionId } });
  if (!row || row.trialStart === null || row.trialCardFingerprint !== null) return;
  const fingerprint = await ports.billing.paymentMethodFingerprint(paymentMethodId);
  if (fingerprint === null) return;
  await claimCardForTrial(ports, row.id, fingerprint);
}

/** The account's owner, who is told about the trial. */
async function trialOwnerOf(ports: Pick<Ports, "db">, accountId: string) {
  return await ownerOf(ports.db, accountId);
}

const DAY_MS = 86_400_000;
const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * `customer.subscription.trial_will_end` (Stripe sends it 3 days before the end): emails the owner when the
 * trial ends and what happens then (charged with the card on file, or paused until a card is added). Once per
 * subscription and trial end (the outbox's dedupe key); nothing for a subscription no longer trialing.
 */
export async function notifyTrialWillEnd(ports: Ports, stripeSubscriptionId: string): Promise<void> {
  const row = await ports.db.subscription.findUnique({
    where: { stripeSubscriptionId },
    include: { plan: { include: WITH_SUBSCRIBED_PRICES } },
  });
  if (row?.status !== "trialing" || row.trialEnd === null) return;
  const owner = await trialOwnerOf(ports, row.accountId);
  if (!owner) return;
  // What the card will be charged: the package's price in the subscription's currency.
  const monthly = subscribedPackageView(row.plan, row).monthlyPrice;
  const price = `${(monthly.amount / 100).toFixed(2)} ${monthly.currency.toUpperCase()}`;
  await ports.mailer.send({
    to: owner.email,
    subject: `Your Minutely free trial ends on ${day(row.trialEnd)}`,
    text:
      row.defaultPaymentMethodId !== null
        ? `Your free trial of ${row.plan.name} ends on ${day(row.trialEnd)}. Your card will then be charged ` +
          `${price} a month, and overage is billed from then on. Cancel before then in Minutely (Billing) if ` +
          `you do not want to continue.`
        : `Your free trial of ${row.plan.name} ends on ${day(row.trialEnd)}. Without a card your subscription ` +
          `pauses then and calls stop. Add a card in Minutely (Dashboard > Add a card) to keep your calls ` +
          `running: ${price} a month.`,
    dedupeKey: `trial-will-end:${stripeSubscriptionId}:${row.trialEnd.toISOString()}`,
  });
}

/**
 * The day a trial ended (a sync that finds it over: converted, paused without a card, or canceled): emails
 * the owner what it became. Once per subscription (the outbox's dedupe key), and only near the end (within
 * 2 days of it), so that a later update of an old subscription never sends a stale message.
 */
export async function notifyTrialEnded(ports: Ports, stripeSubscriptionId: string): Promise<void> {
  const row = await ports.db.subscription.findUnique({
    where: { stripeSubscriptionId },
    include: { plan: true },
  });
  if (!row || row.trialEnd === null || row.status === "trialing") return;
  // A trial ended at once (shorter than the shortest trial) never was one: Checkout's card had a trial
  // elsewhere and claimTrialCard charged it; "your free trial has ended" would be news of a trial not given.
  if (
    row.trialStart !== null &&
    row.trialEnd.getTime() - row.trialStart.getTime() < TRIAL_LIMITS.minDays * DAY_MS
  )
    return;
  const now =
    row.testClockTime && row.testClockTime > ports.clock.now() ? row.testClockTime : ports.clock.now();
  const since = now.getTime() - row.trialEnd.getTime();
  if (since < 0 || since > 2 * 86_400_000) return;
  const owner = await trialOwnerOf(ports, row.accountId);
  if (!owner) return;
  const text =
    row.status === "paused"
      ? `Your free trial of ${row.plan.name} ended today without a card, so your subscription is paused and ` +
        `calls are stopped. Add a card in Minutely (Dashboard > Add a card) to resume it.`
      : row.status === "canceled"
        ? `Your free trial of ${row.plan.name} ended today and your subscription has ended. You can subscribe ` +
          `again at any time in Minutely.`
        : `Your free trial of ${row.plan.name} ended today and your subscription is now paid. Thank you!`;
  await ports.mailer.send({
    to: owner.email,
    subject: "Your Minutely free trial has ended",
    text,
    dedupeKey: `trial-ended:${stripeSubscriptionId}`,
  });
}
