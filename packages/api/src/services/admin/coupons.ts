// An admin puts a coupon on one customer's subscription (a goodwill discount, a negotiated price): it
// replaces any discount the subscription had, applies from the next invoice on (no proration), and is
// audited. The coupon must be offered (not archived, not expired, not used up) and apply to the package.
import { grantsAccess, parseCurrency } from "@minutely/domain";
import type { Ports, Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { DiscountRefusedError } from "../../ports/billing.ts";
import { writeAudit } from "../audit.ts";
import { syncSubscription } from "../billing/index.ts";
import { couponApplicability, syncCouponToStripe } from "../catalog/index.ts";
import { collectionPauseOf } from "../metering/index.ts";
import {
  currentSubscription,
  subscriptionOverviewWithDiscount,
  withActionLock,
} from "../subscriptions/index.ts";

export async function applyCouponToSubscription(
  ports: Ports,
  actor: Viewer,
  input: { accountId: string; couponId: string; requestKey?: string | undefined },
) {
  const account = await ports.db.account.findUnique({ where: { id: input.accountId } });
  if (!account) throw new AppError("NOT_FOUND", "No such customer", "accountId");
  // Under the account's action lock like every change to the subscription: an upgrade, a pause or a second
  // admin applying another coupon at the same time waits its turn (CONFLICT) instead of interleaving.
  return await withActionLock(ports, input.accountId, () => applyCouponLocked(ports, actor, input));
}

async function applyCouponLocked(
  ports: Ports,
  actor: Viewer,
  input: { accountId: string; couponId: string; requestKey?: string | undefined },
) {
  const subscription = await currentSubscription(ports.db, input.accountId);
  if (!subscription || !grantsAccess(subscription.status)) {
    throw new AppError(
      "PRECONDITION_FAILED",
      "This customer has no live subscription to discount",
      "accountId",
    );
  }
  let coupon = await ports.db.coupon.findUnique({ where: { id: input.couponId } });
  if (!coupon) throw new AppError("NOT_FOUND", "No such coupon", "couponId");
  if (!coupon.stripeCouponId && coupon.active) {
    await syncCouponToStripe(ports, coupon.id);
    coupon = await ports.db.coupon.findUniqueOrThrow({ where: { id: coupon.id } });
  }
  // Already on it (a retry, a second tab): nothing to do, even if this very redemption used the coupon up,
  // it has expired or been archived since.
  if (subscription.couponId === coupon.id)
    return await subscriptionOverviewWithDiscount(ports, input.accountId);
  // An archived coupon is gone from Stripe (deleted): refused below without asking.
  const times =
    coupon.active && coupon.stripeCouponId
      ? await ports.billing.retrieveCouponRedemptions(coupon.stripeCouponId)
      : 0;
  const refusal = couponApplicability(
    coupon,
    subscription.plan,
    times,
    ports.clock.now(),
    parseCurrency(subscription.currency) ?? undefined,
  );
  if (refusal) throw new AppError("BAD_REQUEST", refusal, "couponId");
  // Stripe spends a once discount on the next invoice and counts a repeating one's months from now, voided
  // renewals included: applied while a pause is set, the customer would get nothing from it.
  if (coupon.duration !== "forever" && collectionPauseOf(subscription)) {
    throw new AppError(
      "CONFLICT",
      "This subscription is paused: a once or repeating discount would be spent on the renewals voided while paused. Apply it once the pause has ended, or use a forever coupon.",
      "couponId",
    );
  }
  const before = {
    stripeSubscriptionId: subscription.stripeSubscriptionId,
    couponId: subscription.couponId,
    promotionCodeId: subscription.promotionCodeId,
  };
  await ports.billing
    .applyCouponToSubscription(
      subscription.stripeSubscriptionId,
      coupon.stripeCouponId ?? "",
      `minutely-admin-coupon-${subscription.stripeSubscriptionId}-${coupon.id}-${input.requestKey ?? "once"}`,
    )
    .catch((error: unknown) => {
      // Used up or archived between the check above and Stripe: refused like the check would have.
      if (error instanceof DiscountRefusedError) {
        throw new AppError(
          "BAD_REQUEST",
          "This coupon can no longer be applied (used up or archived)",
          "couponId",
        );
      }
      throw error;
    });
  const after = await syncSubscription(ports, subscription.stripeSubscriptionId);
  await writeAudit(
    ports.db,
    actor,
    {
      action: "subscription.apply_coupon",
      entityType: "account",
      entityId: input.accountId,
      before,
      after: { stripeSubscriptionId: subscription.stripeSubscriptionId, couponId: after?.couponId ?? null },
    },
    ports.clock.now(),
  );
  return await subscriptionOverviewWithDiscount(ports, input.accountId);
}
