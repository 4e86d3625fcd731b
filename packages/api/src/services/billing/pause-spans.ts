// The spans a subscription was paused (`subscription_pause_span`), recorded by the subscription sync in its
// transaction, under the account's lock: a pause first seen in force opens a span, a pause seen lifted closes
// it (the domain's `pauseSpanOf` / `liftedSpanEnd` say where each starts and ends). Every way a pause is set
// or lifted goes through the sync: the pause and resume actions (after Stripe answered), the webhooks (a pause
// whose answer was lost is recorded by its `customer.subscription.updated`), Stripe lifting it at
// `resumes_at`, a trial ending without a card (Stripe's status `paused`), a card resuming it, cancellation.
// Ingestion rejects usage that started inside a span (`subscription_paused`), also after the pause ended.
import {
  type AccountSubscriptionStatus,
  liftedSpanEnd,
  type PauseSpan,
  type PauseState,
  pauseInForce,
  pauseSpanOf,
} from "@minutely/domain";
import type { Db } from "../../db.ts";

/** Whether the subscription row as stored (before this sync) had a pause in force. */
export function rowPauseInForce(row: {
  status: AccountSubscriptionStatus;
  pauseBehavior: string | null;
}): boolean {
  return (
    row.status !== "canceled" &&
    row.status !== "incomplete_expired" &&
    (row.status === "paused" || row.pauseBehavior !== null)
  );
}

/**
 * Brings the subscription's open span in line with `state` (Stripe's, as just read), at `now` (the account's
 * now). `wasInForce`: whether the row had a pause before this sync; with no pause before or after, nothing is
 * read or written (the sync of a subscription never paused costs no statement).
 */
export async function recordPauseSpan(
  tx: Db,
  input: { accountId: string; subscriptionId: string; wasInForce: boolean; state: PauseState; now: Date },
): Promise<void> {
  const { accountId, subscriptionId, state, now } = input;
  const inForce = pauseInForce(state);
  if (!inForce && !input.wasInForce) return;
  const open = await tx.subscriptionPauseSpan.findFirst({
    where: { subscriptionId, liftedAt: null },
    orderBy: { startsAt: "asc" },
  });
  const openSpan: PauseSpan | null = open ? { startsAt: open.startsAt, endsAt: open.endsAt } : null;
  if (inForce) {
    const span = pauseSpanOf(state, now, openSpan);
    if (open && open.startsAt.getTime() === span.startsAt.getTime()) {
      // The same pause: only its planned end may have moved (a resumes_at changed at Stripe).
      if ((open.endsAt?.getTime() ?? null) !== (span.endsAt?.getTime() ?? null) && nonEmpty(span)) {
        await tx.subscriptionPauseSpan.update({ where: { id: open.id }, data: { endsAt: span.endsAt } });
      }
      return;
    }
    // Another pause than the one recorded (lifted and set again between two syncs): the old one ends.
    if (open && openSpan) await closeSpan(tx, open.id, openSpan, state, now);
    if (nonEmpty(span)) {
      await tx.subscriptionPauseSpan.create({
        data: { accountId, subscriptionId, startsAt: span.startsAt, endsAt: span.endsAt },
      });
    }
    return;
  }
  if (open && openSpan) await closeSpan(tx, open.id, openSpan, state, now);
}

function nonEmpty(span: PauseSpan): boolean {
  return span.endsAt === null || span.endsAt.getTime() > span.startsAt.getTime();
}

/** The pause is lifted: its span ends (`liftedSpanEnd`), or is dropped when it never took effect. */
async function closeSpan(tx: Db, id: string, span: PauseSpan, state: PauseState, now: Date): Promise<void> {
  const end = liftedSpanEnd(span, state, now);
  if (end === null) {
    await tx.subscriptionPauseSpan.delete({ where: { id } });
    return;
  }
  await tx.subscriptionPauseSpan.update({ where: { id }, data: { endsAt: end, liftedAt: now } });
}
