// Free trials (see docs/billing.md "Free trials"; the rules are packages/domain `trials.ts`). Which
// subscription starts with its package's trial, and how the card a trial started with is remembered.
//
// One trial per account, ever: an account with any subscription that had a trial (`trial_start`, canceled
// ones included) gets no other. One trial per card: a card whose fingerprint started a trial for another
// account starts none (with a card given up front, decided before Stripe is asked; a card typed in Checkout
// is only known after: the sync ends that trial at once, `trial_end: now`, and the card is charged).
import type { SubscriptionPlan } from "@minutely/db";
import { type PlanTrial, planTrialOf, type TrialEligibility, trialEligibility } from "@minutely/domain";
import type { Ports } from "../../context.ts";
import { syncSubscription } from "../billing/subscription-sync.ts";

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
 * After a Checkout that started a trial (the card was typed there, so only known now): records the card's
 * fingerprint on the subscription, or, when that card already started another account's trial, ends this
 * trial at once (`trial_end: now`: Stripe invoices and charges the card). Idempotent: a recorded fingerprint,
 * or a trial already ended, changes nothing; the Stripe call's key is derived from the subscription.
 */
export async function claimTrialCard(ports: Ports, stripeSubscriptionId: string): Promise<void> {
  const row = await ports.db.subscription.findUnique({ where: { stripeSubscriptionId } });
  if (row?.status !== "trialing" || row.trialCardFingerprint !== null) return;
  const remote = await ports.billing.retrieveSubscription(stripeSubscriptionId);
  if (remote.status !== "trialing" || !remote.defaultPaymentMethodId) return;
  const fingerprint = await ports.billing.paymentMethodFingerprint(remote.defaultPaymentMethodId);
  if (fingerprint === null) return;
  if (await cardHadTrialElsewhere(ports, row.accountId, fingerprint)) {
    await ports.billing.endTrialNow(stripeSubscriptionId, `minutely-${stripeSubscriptionId}-end-trial-card`);
    await syncSubscription(ports, stripeSubscriptionId);
    return;
  }
  await ports.db.subscription.update({ where: { id: row.id }, data: { trialCardFingerprint: fingerprint } });
}
