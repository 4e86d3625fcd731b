// Prepaid minute packs: the catalog admins define (synced to Stripe as a product with a one-time price,
// like coupons: saved with its audit entry first, then synced; a failed sync is reported and retried with
// `syncMinutePackToStripe`), and buying one: hosted Checkout in payment mode, or the saved card off-session.
//
// A pack is granted once per payment (grants.ts): by the checkout.session.completed webhook of a paid
// payment-mode session (`checkout:<session id>`), or for the saved card by the charge's answer and by its
// payment_intent.succeeded webhook, whichever comes first (`payment_intent:<id>`). Processing re-reads the
// session or PaymentIntent from Stripe and never trusts the event's copy. A payment that arrives for an
// account deleted meanwhile grants nothing and is refunded (grantForPayment).
import type { MinutePack } from "@minutely/db";
import {
  CURRENCIES,
  type Currency,
  isCurrency,
  MAX_PACK_MINUTES,
  MAX_PACK_NAME_LENGTH,
  MAX_PACK_PRICE_CENTS,
  MAX_PACK_VALIDITY_MONTHS,
  minutePackProblem,
} from "@minutely/domain";
import { z } from "zod";
import type { Ports, Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { IdempotencyKeyReusedError } from "../../ports/billing.ts";
import { withActionLock } from "../action-lock.ts";
import { writeAudit } from "../audit.ts";
import { assertMayBuy } from "../buy-gate.ts";
import { syncErrorOf } from "../catalog/index.ts";
import { endedBy, loadMeteringSubscription, nowFor } from "../metering/index.ts";
import { type GrantOutcome, grantPack, type PackLedgerView, packLedgerView } from "./grants.ts";

const whole = (name: string, min: number, max: number) =>
  z
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(min, `${name} must be at least ${min.toLocaleString("en-US")}`)
    .max(max, `${name} can be at most ${max.toLocaleString("en-US")}`);

/** A pack as an admin defines it: every number a whole number in its range, never coerced. */
export const ZMinutePackInputSchema = z.strictObject({
  name: z
    .string({ error: "Name must be text" })
    .trim()
    .min(1, "Name is required")
    .max(MAX_PACK_NAME_LENGTH, `Name can be at most ${MAX_PACK_NAME_LENGTH} characters`),
  minutes: whole("Minutes", 1, MAX_PACK_MINUTES),
  priceCents: whole("The price in cents", 1, MAX_PACK_PRICE_CENTS),
  currency: z.enum(CURRENCIES as [Currency, ...Currency[]], "Use one of usd, eur, gbp"),
  validityMonths: whole("Validity in months", 1, MAX_PACK_VALIDITY_MONTHS),
});
export type MinutePackInput = z.infer<typeof ZMinutePackInputSchema>;

export interface MinutePackView {
  id: string;
  name: string;
  minutes: number;
  priceCents: number;
  currency: Currency;
  validityMonths: number;
  active: boolean;
  /** Whether Stripe has its price (it can be bought). */
  synced: boolean;
}

export function toMinutePackView(pack: MinutePack): MinutePackView {
  const currency = pack.currency.trim().toLowerCase();
  if (!isCurrency(currency)) throw new Error(`minute pack ${pack.id} has an unsupported currency`);
  return {
    id: pack.id,
    name: pack.name,
    minutes: pack.minutes,
    priceCents: pack.priceCents,
    currency,
    validityMonths: pack.validityMonths,
    active: pack.active,
    synced: pack.stripePriceId !== null,
  };
}

/** Packs offered (active and synced), or every pack for admins. */
export async function listMinutePacks(
  ports: Pick<Ports, "db">,
  options: { includeArchived: boolean },
): Promise<MinutePackView[]> {
  const packs = await ports.db.minutePack.findMany({
    where: options.includeArchived ? {} : { active: true, stripePriceId: { not: null } },
    orderBy: [{ active: "desc" }, { currency: "asc" }, { minutes: "asc" }, { createdAt: "asc" }],
  });
  return packs.map(toMinutePackView);
}

/**
 * The packs a customer is offered: those in its subscription's currency (a pack has one currency and is
 * bought in the account's: `purchasable`); every pack on offer while the account has no subscription (it
 * cannot buy one yet).
 */
export async function listOfferedPacks(
  ports: Pick<Ports, "db">,
  accountId: string,
): Promise<MinutePackView[]> {
  const [packs, subscription] = await Promise.all([
    listMinutePacks(ports, { includeArchived: false }),
    loadMeteringSubscription(ports.db, accountId),
  ]);
  return subscription === null ? packs : packs.filter((p) => p.currency === subscription.plan.currency);
}

export interface MinutePackChangeResult {
  pack: MinutePackView;
  /** Why the Stripe sync failed (the change stays saved; retry with syncMinutePackToStripe), or null. */
  syncError: string | null;
}

async function syncAndReport(ports: Ports, id: string): Promise<MinutePackChangeResult> {
  const syncError = await syncErrorOf(() => syncMinutePackToStripe(ports, id));
  const pack = await ports.db.minutePack.findUniqueOrThrow({ where: { id } });
  return { pack: toMinutePackView(pack), syncError };
}

/** Defines a pack (audit entry in the same transaction), then syncs it to Stripe. */
export async function createMinutePack(
  ports: Ports,
  actor: Viewer,
  input: MinutePackInput,
): Promise<MinutePackChangeResult> {
  const problem = minutePackProblem(input);
  if (problem) throw new AppError("BAD_REQUEST", problem.message, problem.field);
  const at = ports.clock.now();
  const created = await ports.db.$transaction(async (tx) => {
    const row = await tx.minutePack.create({
      data: {
        name: input.name.trim(),
        minutes: input.minutes,
        priceCents: input.priceCents,
        currency: input.currency,
        validityMonths: input.validityMonths,
        createdAt: at,
      },
    });
    await writeAudit(
      tx,
      actor,
      { action: "minute_pack.create", entityType: "minute_pack", entityId: row.id, after: row },
      at,
    );
    return row;
  });
  return await syncAndReport(ports, created.id);
}

/** Archives a pack: no new purchase (Stripe's price and product archived too); packs bought keep running. */
export async function archiveMinutePack(
  ports: Ports,
  actor: Viewer,
  id: string,
): Promise<MinutePackChangeResult> {
  const at = ports.clock.now();
  await ports.db.$transaction(async (tx) => {
    const before = await tx.minutePack.findUnique({ where: { id } });
    if (!before) throw new AppError("NOT_FOUND", "No such minute pack", "id");
    if (!before.active) return;
    const after = await tx.minutePack.update({ where: { id }, data: { active: false } });
    await writeAudit(
      tx,
      actor,
      { action: "minute_pack.archive", entityType: "minute_pack", entityId: id, before, after },
      at,
    );
  });
  return await syncAndReport(ports, id);
}

/** Makes Stripe match the pack: its product and one-time price made once, archived once the pack is. */
export async function syncMinutePackToStripe(ports: Ports, id: string): Promise<void> {
  let pack = await ports.db.minutePack.findUnique({ where: { id } });
  if (!pack) throw new AppError("NOT_FOUND", "No such minute pack", "id");
  if (!pack.stripePriceId) {
    const view = toMinutePackView(pack);
    const { productId, priceId } = await ports.billing.createMinutePackPrice({
      packId: pack.id,
      name: pack.name,
      description: `${pack.minutes.toLocaleString("en-US")} call minutes, valid ${pack.validityMonths} months`,
      amountCents: pack.priceCents,
      currency: view.currency,
      idempotencyKey: `minutely-pack-${pack.id}`,
    });
    pack = await ports.db.minutePack.update({
      where: { id },
      data: { stripeProductId: productId, stripePriceId: priceId },
    });
  }
  if (!pack.active && pack.stripeProductId && pack.stripePriceId) {
    await ports.billing.archiveMinutePackPrice(pack.stripeProductId, pack.stripePriceId);
  }
}

/** The pack a customer may buy now, in their billing currency, and their Stripe customer. */
export async function purchasable(ports: Pick<Ports, "db" | "clock">, accountId: string, packId: string) {
  const pack = await ports.db.minutePack.findUnique({ where: { id: packId } });
  if (!pack?.active || !pack.stripePriceId) {
    throw new AppError("BAD_REQUEST", "This pack is not offered (any more).", "packId");
  }
  const account = await ports.db.account.findUnique({ where: { id: accountId } });
  if (account?.deletedAt) throw new AppError("NOT_FOUND", "No such account.");
  if (!account?.stripeCustomerId) {
    throw new AppError(
      "PRECONDITION_FAILED",
      "Subscribe to a package first: packs add to a package's minutes.",
    );
  }
  const subscription = await loadMeteringSubscription(ports.db, accountId);
  if (!subscription) {
    throw new AppError(
      "PRECONDITION_FAILED",
      "Subscribe to a package first: packs add to a package's minutes.",
    );
  }
  // A subscription that has ended authorizes no call: a pack's minutes could never be used (nor refunded).
  if (endedBy(subscription, nowFor(subscription, ports.clock.now()))) {
    throw new AppError(
      "PRECONDITION_FAILED",
      "Your subscription has ended: subscribe to a package again to buy minute packs.",
    );
  }
  const view = toMinutePackView(pack);
  // The metered plan's currency is the subscription's own (`subscription.currency`, its Stripe price's).
  if (view.currency !== subscription.plan.currency) {
    throw new AppError(
      "BAD_REQUEST",
      `This pack is priced in ${view.currency.toUpperCase()}; your billing currency is ${subscription.plan.currency.toUpperCase()}.`,
      "packId",
    );
  }
  return { pack: view, stripePriceId: pack.stripePriceId, customerId: account.stripeCustomerId };
}

/**
 * A minute pack is buying (README, "Email verification"): where the deployment asks for a verified address
 * (REQUIRE_VERIFIED_EMAIL_TO_BUY), the buyer's must be, as for subscribing and upgrading; a 403 that says
 * what to do. Checked before anything else (by the routes, which know the buyer).
 */
export function assertMayBuyPacks(
  ports: Ports,
  buyer: { accountId: string; email: string; name: string; emailVerified?: boolean | undefined },
): void {
  assertMayBuy(ports, buyer);
}

/** Hosted Checkout in payment mode for a pack; the pack is granted by the completed session's webhook. */
export async function buyPackWithCheckout(
  ports: Ports,
  accountId: string,
  input: { packId: string; successUrl: string; cancelUrl: string; requestKey: string },
): Promise<{ url: string; sessionId: string }> {
  const { pack, stripePriceId, customerId } = await purchasable(ports, accountId, input.packId);
  const page = await ports.billing
    .createPackCheckout({
      customerId,
      priceId: stripePriceId,
      successUrl: input.successUrl,
      cancelUrl: input.cancelUrl,
      metadata: { minutely_pack_id: pack.id, minutely_account_id: accountId },
      idempotencyKey: `minutely-pack-checkout:${accountId}:${input.requestKey}`,
    })
    .catch(refuseReusedKey);
  // The account deleted while the page was being made (its deletion expired the pages open before): this
  // one must not stay open on the scrubbed customer either. Read again now that it exists; a deletion that
  // commits after this read expires it itself (deletion.ts, once committed).
  const now = await ports.db.account.findUnique({ where: { id: accountId }, select: { deletedAt: true } });
  if (!now || now.deletedAt) {
    await ports.billing.scrubCustomer(
      customerId,
      `minutely-${accountId}-delete-scrub-pack-${page.sessionId}`,
    );
    throw new AppError("NOT_FOUND", "No such account.");
  }
  return page;
}

/**
 * The same request key is the same purchase: reused for another pack, or after the total changed (a new
 * billing address changes the tax; Stripe refuses a key reused with other parameters), it is refused (409).
 * An earlier attempt with the key that Stripe did charge is granted by its payment_intent.succeeded webhook.
 */
function refuseReusedKey(error: unknown): never {
  if (error instanceof IdempotencyKeyReusedError) {
    throw new AppError(
      "CONFLICT",
      "This request key was already used for a purchase on other terms (another pack, or a total that changed since, such as the tax of a new billing address). If that purchase went through, its minutes are added shortly: check your minute packs before buying again with a new key.",
      "requestKey",
    );
  }
  throw error;
}

/**
 * Buys a pack with the saved card, off-session; granted at once when Stripe says succeeded (and once only,
 * whatever its webhook does). A decline or a bank's request to authenticate is a 402 saying so; nothing is
 * retried. The same request key is the same payment (Stripe idempotency key).
 */
export async function buyPackWithSavedCard(
  ports: Ports,
  accountId: string,
  input: { packId: string; requestKey: string },
): Promise<PackLedgerView> {
  // Under the account's action lock, like every other charge the customer starts: a deletion (or an upgrade)
  // running meanwhile makes this a 409 to retry, never a charge racing the card's removal (a deleted
  // account is a 404). Stripe's idempotency key still makes a retry the same payment.
  return await withActionLock(ports, accountId, () => buySavedCardLocked(ports, accountId, input));
}

async function buySavedCardLocked(
  ports: Ports,
  accountId: string,
  input: { packId: string; requestKey: string },
): Promise<PackLedgerView> {
  const { pack, customerId, stripePriceId } = await purchasable(ports, accountId, input.packId);
  const answer = await ports.billing
    .chargeSavedCard({
      customerId,
      amountCents: pack.priceCents,
      priceId: stripePriceId,
      currency: pack.currency,
      description: `Minutely minute pack: ${pack.name}`,
      metadata: { minutely_pack_id: pack.id, minutely_account_id: accountId },
      idempotencyKey: `minutely-pack-purchase:${accountId}:${input.requestKey}`,
    })
    .catch(refuseReusedKey);
  if (answer.status !== "succeeded") throw new AppError("PAYMENT_REQUIRED", answer.message, "packId");
  const granted = await grantForPayment(ports, accountId, pack.id, {
    paymentIntentId: answer.paymentIntentId,
    sourceKey: `payment_intent:${answer.paymentIntentId}`,
  });
  if (granted === "account_deleted") throw accountDeletedMeanwhile();
  return await packLedgerView(ports, accountId);
}

/** The answer to a buyer whose account was deleted while their pack was paid for (and refunded). */
export function accountDeletedMeanwhile(): AppError {
  return new AppError(
    "NOT_FOUND",
    "This account was deleted while the pack was being bought: nothing was added, and the payment is refunded in full.",
  );
}

/**
 * Grants the pack a payment bought (once per `sourceKey`). When the account was deleted meanwhile (the
 * payment raced the deletion: a saved-card purchase or top-up charged before the cards were detached, a
 * Checkout page paid just before it was expired), nothing is granted and the payment is refunded in full,
 * once whatever the retries; a refund Stripe fails to make throws, so the webhook that brought the payment
 * is retried and refunds then.
 */
export async function grantForPayment(
  ports: Pick<Ports, "db" | "clock" | "billing">,
  accountId: string,
  packId: string,
  payment: { sourceKey: string; paymentIntentId: string | null },
): Promise<GrantOutcome> {
  // The pack's terms (immutable once defined) as they were bought, even if it has been archived since.
  const pack = await ports.db.minutePack.findUnique({ where: { id: packId } });
  if (!pack) throw new Error(`a payment names minute pack ${packId}, which does not exist`);
  const view = toMinutePackView(pack);
  const subscription = await loadMeteringSubscription(ports.db, accountId);
  const outcome = await grantPack(ports.db, {
    accountId,
    packId,
    sourceKey: payment.sourceKey,
    minutes: view.minutes,
    priceCents: view.priceCents,
    currency: view.currency,
    validityMonths: view.validityMonths,
    grantedAt: nowFor(subscription, ports.clock.now()),
  });
  if (outcome === "account_deleted") {
    if (!payment.paymentIntentId) {
      throw new Error(`a paid pack payment (${payment.sourceKey}) names no PaymentIntent to refund`);
    }
    await ports.billing.refundUngrantedPayment(payment.paymentIntentId);
  }
  return outcome;
}

/** The account whose Stripe customer made a payment naming it (null: not one of Minutely's pack payments). */
async function payingAccount(
  ports: Pick<Ports, "db">,
  customerId: string | null,
  metadata: Record<string, string>,
): Promise<{ accountId: string; packId: string } | null> {
  const packId = metadata.minutely_pack_id;
  const accountId = metadata.minutely_account_id;
  if (!packId || !accountId || !customerId) return null;
  const account = await ports.db.account.findUnique({ where: { stripeCustomerId: customerId } });
  // The metadata must name the customer's own account: a payment never grants to another account.
  if (account?.id !== accountId) return null;
  return { accountId, packId };
}

/** checkout.session.completed in payment mode: a paid pack session grants its pack (once). */
export async function applyPackCheckout(ports: Ports, sessionId: string): Promise<boolean> {
  const session = await ports.billing.retrievePaymentCheckout(sessionId);
  if (session.mode !== "payment" || session.status !== "complete" || session.paymentStatus !== "paid") {
    return false;
  }
  const payer = await payingAccount(ports, session.customerId, session.metadata);
  if (!payer) return false;
  const outcome = await grantForPayment(ports, payer.accountId, payer.packId, {
    sourceKey: `checkout:${sessionId}`,
    paymentIntentId: session.paymentIntentId,
  });
  return outcome === "granted";
}

/** payment_intent.succeeded: a saved-card pack purchase grants its pack (once, with the charge's answer). */
export async function applyPackPaymentIntent(ports: Ports, paymentIntentId: string): Promise<boolean> {
  const intent = await ports.billing.retrievePaymentIntent(paymentIntentId);
  if (intent.status !== "succeeded") return false;
  const payer = await payingAccount(ports, intent.customerId, intent.metadata);
  if (!payer) return false;
  const outcome = await grantForPayment(ports, payer.accountId, payer.packId, {
    sourceKey: `payment_intent:${paymentIntentId}`,
    paymentIntentId,
  });
  return outcome === "granted";
}
