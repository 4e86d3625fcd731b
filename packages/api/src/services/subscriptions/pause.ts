// Pausing a subscription (Stripe's `pause_collection`), by the customer or an admin. The rules are the
// domain's (pause.ts): the pause starts at the end of the period already paid and lasts 1-3 billing
// periods or until resumed; every invoice made while collection is paused is voided; calls are denied
// (`subscription_paused`) while it is in effect. Like the other actions: under the account's action lock,
// returning at once when the desired state already holds (a retry, a double click), then Stripe, then a
// re-read of Stripe into Minutely's tables.
import { randomUUID } from "node:crypto";
import {
  accountNow,
  type CollectionPause,
  checkPause,
  checkResumePause,
  type PauseDenialCode,
  type PausePeriods,
  pauseWindow,
} from "@minutely/domain";
import type { Ports } from "../../context.ts";
import { AppError, type AppErrorCode } from "../../errors.ts";
import { PAUSE_STARTS_AT_KEY } from "../../ports/billing.ts";
import { syncInvoice, syncSubscription } from "../billing/index.ts";
import { collectionPauseOf } from "../metering/index.ts";
import {
  liveSubscription,
  type SubscriptionOverview,
  subscriptionOverview,
  withActionLock,
} from "./subscriptions.ts";

const PAUSE_DENIAL_STATUS: Record<PauseDenialCode, AppErrorCode> = {
  NO_SUBSCRIPTION: "PRECONDITION_FAILED",
  NOT_ACTIVE: "CONFLICT",
  ALREADY_PAUSED: "CONFLICT",
  NOT_PAUSED: "PRECONDITION_FAILED",
  CANCELLATION_PENDING: "CONFLICT",
  CHANGE_ALREADY_SCHEDULED: "CONFLICT",
};

/**
 * Pauses the account's subscription for `periods` billing periods (1-3) or, with null, until resumed.
 * Asking again for the same pause (a retry) changes nothing; another pause while one is set is a CONFLICT.
 */
export async function pauseSubscription(
  ports: Ports,
  accountId: string,
  periods: PausePeriods | null,
): Promise<SubscriptionOverview> {
  return await withActionLock(ports, accountId, async () => {
    const current = await liveSubscription(ports, accountId);
    // Stripe's period, not a possibly stale copy: the pause starts at the end of the period paid now.
    const remote = await ports.billing.retrieveSubscription(current.stripeSubscriptionId);
    const window = pauseWindow(remote.currentPeriodEnd, periods);
    const existing = collectionPauseOf(current);
    if (existing && samePause(existing, window)) return await subscriptionOverview(ports, accountId);
    // Stripe has this very pause but Minutely was never told (the first try's answer or sync was lost): a
    // retry records it instead of calling it a second pause.
    const remoteStart = remote.pauseCollection ? pauseStartOf(remote.metadata) : null;
    const remotePause =
      remote.pauseCollection && remoteStart
        ? { startsAt: remoteStart, resumesAt: remote.pauseCollection.resumesAt }
        : null;
    if (!existing && remotePause && samePause(remotePause, window)) {
      await syncSubscription(ports, current.stripeSubscriptionId);
      return await subscriptionOverview(ports, accountId);
    }
    // A schedule whose change has taken effect stays on the subscription through its last phase (released at
    // its end): only a change still to come (Stripe's phases, as the sync reads them) refuses the pause; the
    // customer could not cancel the other (none is shown).
    const pendingChange = remote.scheduleId
      ? await ports.billing.retrieveScheduledChange(
          remote.scheduleId,
          accountNow(ports.clock.now(), current.testClockTime),
        )
      : null;
    const allowed = checkPause({
      status: current.status,
      cancelAtPeriodEnd: remote.cancelAtPeriodEnd,
      scheduledChange: current.stripeScheduleId !== null || pendingChange !== null,
      pause: existing ?? (remote.pauseCollection ? window : null),
    });
    if (!allowed.ok) throw new AppError(PAUSE_DENIAL_STATUS[allowed.code], allowed.message);
    await ports.billing.setPauseCollection(
      current.stripeSubscriptionId,
      window,
      `minutely-${accountId}-pause-${current.stripeSubscriptionId}-${randomUUID()}`,
    );
    await syncSubscription(ports, current.stripeSubscriptionId);
    return await subscriptionOverview(ports, accountId);
  });
}

function samePause(a: CollectionPause, b: CollectionPause): boolean {
  return (
    a.startsAt.getTime() === b.startsAt.getTime() &&
    (a.resumesAt?.getTime() ?? null) === (b.resumesAt?.getTime() ?? null)
  );
}

/** When the pause Minutely set at Stripe starts (kept in the subscription's metadata); null when not set. */
function pauseStartOf(metadata: Record<string, string>): Date | null {
  const at = metadata[PAUSE_STARTS_AT_KEY];
  if (!at) return null;
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Lifts the pause now (before it ends by itself). Not paused (any more): nothing to do. */
export async function resumePausedSubscription(
  ports: Ports,
  accountId: string,
): Promise<SubscriptionOverview> {
  return await withActionLock(ports, accountId, async () => {
    const current = await liveSubscription(ports, accountId);
    let pause = collectionPauseOf(current);
    if (!pause) {
      // Not paused as far as Minutely knows; Stripe may still have a pause whose answer was lost (its webhook
      // not in yet): ask, so the customer's resume is never undone by that late sync.
      const remote = await ports.billing.retrieveSubscription(current.stripeSubscriptionId);
      if (!remote.pauseCollection) return await subscriptionOverview(ports, accountId);
      pause = { startsAt: pauseStartOf(remote.metadata) ?? current.currentPeriodEnd, resumesAt: null };
    }
    const allowed = checkResumePause({
      status: current.status,
      cancelAtPeriodEnd: current.cancelAtPeriodEnd,
      scheduledChange: current.stripeScheduleId !== null,
      pause,
    });
    if (!allowed.ok) throw new AppError(PAUSE_DENIAL_STATUS[allowed.code], allowed.message);
    await ports.billing.setPauseCollection(
      current.stripeSubscriptionId,
      null,
      `minutely-${accountId}-unpause-${current.stripeSubscriptionId}-${randomUUID()}`,
    );
    await syncSubscription(ports, current.stripeSubscriptionId);
    return await subscriptionOverview(ports, accountId);
  });
}

/**
 * A renewal voided while collection was paused (`invoice.voided`, billing reason `subscription_cycle`)
 * takes with it the overage items pending on it: the overage of the last period paid, still owed. They are
 * billed again at once on an invoice of their own (`rebillVoidedInvoiceItems`, idempotent per voided invoice),
 * so a pause never forgives overage. Any voided renewal qualifies (Minutely voids none otherwise), whatever
 * the pause's state by the time the event is processed (events come in any order). Not for a deleted account.
 */
export async function rebillVoidedRenewal(ports: Ports, invoiceId: string): Promise<void> {
  const invoice = await ports.billing.retrieveInvoice(invoiceId);
  if (
    invoice.status !== "void" ||
    invoice.billingReason !== "subscription_cycle" ||
    !invoice.subscriptionId
  ) {
    return;
  }
  // A deleted account is invoiced nothing more (docs/accounts.md): its cards are gone, so an invoice made now
  // could only stay open, dunning a customer that no longer exists. Its overage follows the rule of the
  // deletion's final bill: what was pending then was invoiced; what came after, recorded, never invoiced.
  const account = await ports.db.account.findUnique({
    where: { stripeCustomerId: invoice.customerId },
    select: { deletedAt: true },
  });
  if (account?.deletedAt) return;
  const rebilled = await ports.billing.rebillVoidedInvoiceItems({
    invoiceId,
    customerId: invoice.customerId,
    subscriptionId: invoice.subscriptionId,
    idempotencyKey: `minutely-rebill-${invoiceId}`,
  });
  if (rebilled) await syncInvoice(ports, rebilled);
}
