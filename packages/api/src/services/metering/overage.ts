// Overage billing for packages with an overage price: minutes beyond the included ones are added to the
// customer's next Stripe invoice as invoice items.
//
// Two steps, so that a minute is billed exactly once whatever fails or is retried:
// 1. `report-overage` (one pending job per account and period) decides, in one transaction with the
//    period's rollup row locked, which minutes are not reported yet (`overage_reported` .. overage now),
//    moves `overage_reported` forward and enqueues a `bill-overage` job for exactly that range, in the same
//    transaction. Nothing is decided twice: a second run finds nothing new. The limit, the price and the
//    currency are those of the plan that governs the period, recorded on the same row (`settlePeriodPlans`):
//    a period that has closed is billed by its own plan even if the customer has changed plans since, and
//    the current period by the subscription's plan (an upgrade applies to it at once). A period that ended
//    before the account's first subscription began is never billed (`periodCoveredBySubscription`), nor is
//    anything once the account's subscriptions have ended (`endedAt`): Stripe invoices no item added to a
//    canceled subscription, so overage still unreported then stays recorded and shown, and is never
//    invoiced (items already pending when a subscription canceled at the period's end ends are collected
//    by Stripe on its final invoice). Nor is anything once the account is deleted (its deletion invoiced
//    what was pending: accounts/deletion.ts).
//    The customer's spend cap that governs the period bounds it: the budget in force at the decision for the
//    current period, and for a closed one the budget it recorded, in force when it closed
//    (`recordPeriodSpendCapSql`; a later budget never bills a closed period's late minutes).
//    `overage_reported` moves up to at most the minutes that budget pays for (`billableOverageMinutes`),
//    never down, so a period's billed overage never exceeds the highest cap in force during it; minutes
//    beyond it stay unbilled (billed later only if the customer raises the budget in that period).
// 2. `bill-overage` creates the invoice item for that range with a Stripe idempotency key derived from
//    account, period and range, so a retry after a crash or timeout returns the item created before. It
//    claims the range (`overage_bill`) in a short transaction, asks Stripe with no transaction open and
//    records the item in another: a lock held while Stripe hangs would stall the account's ingestion, and
//    with it every account's group commit.
import {
  billableOverageMinutes,
  type Currency,
  formatMoney,
  isCurrency,
  overageCost,
  type SpendCap,
  spendCapMinutes,
} from "@minutely/domain";
import type { Ports } from "../../context.ts";
import type { JobQueue, QueuedJob } from "../../ports/queue.ts";
import { drawFromPacks } from "./pack-draws.ts";
import { lockPeriod, recordPeriodSpendCapSql } from "./period-plans.ts";
import { isCurrentPeriodOf, nowFor } from "./periods.ts";
import {
  isTrialPeriod,
  loadMeteringSubscription,
  METERING_TX_OPTIONS,
  type MeteringSubscription,
  storedSpendCap,
} from "./subscription.ts";

export function reportOverageJobKey(accountId: string, periodStart: Date): string {
  return `report-overage:${accountId}:${periodStart.toISOString()}`;
}

/** Asks for the period's unreported overage to be reported (deduplicated per account and period). */
/** The job that reports an account's period's overage (one pending per account and period: its key). */
export function overageReportJob(accountId: string, periodStart: Date): QueuedJob<"report-overage"> {
  return {
    task: "report-overage",
    payload: { accountId, periodStart: periodStart.toISOString() },
    options: { jobKey: reportOverageJobKey(accountId, periodStart) },
  };
}

export async function enqueueOverageReport(
  queue: JobQueue,
  accountId: string,
  periodStart: Date,
  db?: Parameters<JobQueue["enqueue"]>[3],
): Promise<void> {
  await queue.enqueue(
    "report-overage",
    { accountId, periodStart: periodStart.toISOString() },
    { jobKey: reportOverageJobKey(accountId, periodStart) },
    db,
  );
}

export interface OverageBill {
  accountId: string;
  periodStart: string;
  /** Overage minutes already reported before this bill (exclusive lower bound of the range). */
  fromMinutes: number;
  /** Overage minutes reported once this bill is on the invoice. */
  toMinutes: number;
  pricePerMinuteCents: number;
  currency: Currency;
  /** The period's overage epoch when the bill was decided; a later upgrade's withdrawal voids the bill. */
  epoch: number;
}

/** The Stripe idempotency key of one bill: the same range of the same period is the same invoice item. */
export function overageIdempotencyKey(
  bill: Pick<OverageBill, "accountId" | "periodStart" | "fromMinutes" | "toMinutes"> & { epoch?: number },
) {
  // Epoch 0 keeps the keys of bills made before epochs existed; after a withdrawal the same range is new.
  const epoch = bill.epoch ? `:e${bill.epoch}` : "";
  return `minutely-overage:${bill.accountId}:${bill.periodStart}:${bill.fromMinutes}-${bill.toMinutes}${epoch}`;
}

/** Raised while a plan change of the account is under way: the job runs again later (the queue retries). */
export class PlanChangeInProgressError extends Error {
  override name = "PlanChangeInProgressError";
}

/**
 * Step 1: decides what overage of a period is still unreported and hands it to a `bill-overage` job.
 * Returns the bill, or null when there is nothing (new) to bill.
 */
export async function reportOverage(
  ports: Pick<Ports, "db" | "queue" | "clock">,
  input: { accountId: string; periodStart: Date },
): Promise<OverageBill | null> {
  const subscription = await loadMeteringSubscription(ports.db, input.accountId);
  const clockNow = ports.clock.now();
  return await ports.db.$transaction(async (tx) => {
    const row = await lockPeriod(tx, input.accountId, input.periodStart, subscription);
    // An upgrade in progress withdraws this period's overage and then records the new plan: deciding now,
    // by the plan recorded before it, could bill minutes the new plan includes. Decide once it is done.
    const [changing] = await tx.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM account_action_lock
      WHERE account_id = ${input.accountId}::uuid AND expires_at > now()`;
    if (Number(changing?.n ?? 0) > 0) {
      throw new PlanChangeInProgressError(`account ${input.accountId}: a plan change is in progress`);
    }
    const plan = row?.plan ?? null;
    const price = plan?.overagePrice ?? null;
    if (!row || !plan || price === null) return null;
    // Only a period the account's subscriptions really cover is billed: one that ended before the first
    // subscription began (a period invented for an absurd date before ingestion refused them) never is.
    if (!subscription || !periodCoveredBySubscription(subscription, row.periodEnd)) return null;
    // Nothing is billed once the account's subscriptions have ended: Stripe invoices no item of a canceled
    // subscription, so the minutes stay recorded and unreported (shown as overage, never invoiced). A period
    // starting at or after the end is none of the subscription's (ingestion refuses its calls).
    if (subscription.endedAt !== null) return null;
    // Nor once the account is deleted: nothing is added to its invoices (docs/accounts.md).
    const [account] = await tx.$queryRaw<{ deleted_at: Date | null }[]>`
      SELECT deleted_at FROM account WHERE id = ${input.accountId}::uuid`;
    if (!account || account.deleted_at) return null;
    // A free trial's period bills no overage (calls stop at the allowance; inbound minutes beyond it, and any
    // recorded late, stay recorded over the cap and are never invoiced).
    if (isTrialPeriod(subscription, input.periodStart)) return null;
    // At most what the budget that governs the period pays for: the current period's is the budget in force
    // now (recorded on the row; a change of the budget takes this lock, so it is read after any change that
    // committed first), a closed period's is the one it recorded, in force when it closed (a budget raised
    // since bills none of its late minutes). A period that recorded none is billed by the budget now.
    let cap: SpendCap | null;
    if (isCurrentPeriodOf(subscription, input.periodStart) || !row.spendCap.recorded) {
      if (isCurrentPeriodOf(subscription, input.periodStart)) {
        await tx.$executeRaw(recordPeriodSpendCapSql(input.accountId, input.periodStart));
      }
      cap = await storedSpendCap(tx, input.accountId);
    } else {
      cap = row.spendCap.cap;
    }
    // Packs pay first: minutes beyond the included ones not reported yet are drawn from packs the account
    // holds now (a pack bought since the minutes were used covers them), and are never billed.
    const drawn = await drawFromPacks(
      tx,
      ports.queue,
      {
        accountId: input.accountId,
        periodStart: input.periodStart,
        minutesUsed: row.minutes,
        limit: plan.callMinutesLimit,
        drawn: row.packMinutesDrawn,
        overageReported: row.overageReported,
      },
      nowFor(subscription, clockNow),
    );
    const overage = billableOverageMinutes(
      row.minutes - plan.callMinutesLimit - drawn,
      spendCapMinutes(cap, price),
    );
    if (overage <= row.overageReported) return null;
    const bill: OverageBill = {
      accountId: input.accountId,
      periodStart: input.periodStart.toISOString(),
      fromMinutes: row.overageReported,
      toMinutes: overage,
      pricePerMinuteCents: price.amount,
      currency: price.currency,
      epoch: row.overageEpoch,
    };
    await tx.$executeRaw`
      UPDATE usage_period_rollup SET overage_reported = ${overage}
      WHERE account_id = ${input.accountId}::uuid AND period_start = ${input.periodStart}`;
    await ports.queue.enqueue(
      "bill-overage",
      { ...bill },
      { jobKey: `bill-overage:${overageIdempotencyKey(bill)}` },
      tx,
    );
    return bill;
  }, METERING_TX_OPTIONS);
}

/** Whether a period ending at `periodEnd` overlaps the account's subscriptions (ends after the first began). */
export function periodCoveredBySubscription(
  subscription: Pick<MeteringSubscription, "firstStartedAt">,
  periodEnd: Date,
): boolean {
  return periodEnd.getTime() > subscription.firstStartedAt.getTime();
}

export class OverageBillingError extends Error {
  override name = "OverageBillingError";
}

type InvoiceItemRequest = Parameters<Ports["billing"]["addInvoiceItem"]>[0];

interface ClaimRow {
  status: "pending" | "billed" | "voiding" | "void";
  invoice_item_id: string | null;
  request: InvoiceItemRequest;
}

/**
 * Step 2: puts one decided range of overage minutes on the customer's next invoice, exactly once, without
 * holding a lock or a transaction while Stripe answers (ingestion of the account waits on the period's row,
 * and every account's group commit on that ingestion, so a hanging Stripe must never sit inside one):
 * 1. a short transaction with the period's row locked checks that the bill still stands (same epoch, range
 *    still reported, subscription not ended) and records a pending claim (`overage_bill`) holding the
 *    invoice item request and its idempotency key; committed;
 * 2. Stripe creates the item, with that key (no transaction open);
 * 3. a short transaction records the item on the claim.
 * A crash or timeout between leaves the claim pending: the retry sends the same request with the same key,
 * and Stripe answers with the item made before. An upgrade that withdraws the period's overage meanwhile
 * marks the claim `voiding` and deletes its item (see withdrawCurrentOverage): the claim's late answer then
 * records nothing. Returns null for a void bill.
 */
export async function billOverage(
  ports: Pick<Ports, "db" | "billing">,
  bill: OverageBill,
): Promise<{ invoiceItemId: string } | null> {
  const minutes = bill.toMinutes - bill.fromMinutes;
  if (!Number.isSafeInteger(minutes) || minutes <= 0 || !isCurrency(bill.currency)) {
    throw new OverageBillingError(`invalid overage bill ${JSON.stringify(bill)}`);
  }
  const key = overageIdempotencyKey(bill);
  const periodStart = new Date(bill.periodStart);
  const claim = await ports.db.$transaction(async (tx): Promise<ClaimRow | null> => {
    const [row] = await tx.$queryRaw<{ overage_reported: number; overage_epoch: number }[]>`
      SELECT overage_reported, overage_epoch FROM usage_period_rollup
      WHERE account_id = ${bill.accountId}::uuid AND period_start = ${periodStart}
      FOR UPDATE`;
    // Claimed before (a retry): completed with the same request and key, or answered from the record.
    const [claimed] = await tx.$queryRaw<ClaimRow[]>`
      SELECT status::text AS status, invoice_item_id, request FROM overage_bill WHERE idempotency_key = ${key}`;
    if (claimed) return claimed;
    if (!row || row.overage_epoch !== bill.epoch || row.overage_reported < bill.toMinutes) return null;
    const account = await tx.account.findUnique({
      where: { id: bill.accountId },
      select: { stripeCustomerId: true, deletedAt: true },
    });
    const subscription: MeteringSubscription | null = await loadMeteringSubscription(tx, bill.accountId);
    if (account?.deletedAt) {
      // Decided before the account was deleted, billed after: nothing is added to a deleted account's
      // invoices (docs/accounts.md). As for an ended subscription, the range goes back to unreported: the
      // minutes stay recorded, never invoiced.
      await tx.$executeRaw`
        UPDATE usage_period_rollup SET overage_reported = LEAST(overage_reported, ${bill.fromMinutes})
        WHERE account_id = ${bill.accountId}::uuid AND period_start = ${periodStart}`;
      return null;
    }
    if (!account?.stripeCustomerId || !subscription) {
      // Retried by the queue: the subscription work links the Stripe customer.
      throw new OverageBillingError(
        `account ${bill.accountId} has no Stripe customer or subscription to bill`,
      );
    }
    if (subscription.endedAt !== null) {
      // Decided before the subscription ended, billed after: Stripe would not invoice the item. The range
      // goes back to unreported (the bill is void), so the rollup never claims minutes that were not billed.
      await tx.$executeRaw`
        UPDATE usage_period_rollup SET overage_reported = LEAST(overage_reported, ${bill.fromMinutes})
        WHERE account_id = ${bill.accountId}::uuid AND period_start = ${periodStart}`;
      return null;
    }
    const price = { amount: bill.pricePerMinuteCents, currency: bill.currency };
    const amount = overageCost(minutes, 0, price, bill.currency);
    const request: InvoiceItemRequest = {
      customerId: account.stripeCustomerId,
      subscriptionId: subscription.stripeSubscriptionId,
      amountCents: amount.amount,
      currency: bill.currency,
      description: `Overage: ${minutes} call minutes × ${formatMoney(price)} (period from ${bill.periodStart.slice(0, 10)})`,
      metadata: {
        minutely_account_id: bill.accountId,
        minutely_period_start: bill.periodStart,
        minutely_overage_from: String(bill.fromMinutes),
        minutely_overage_to: String(bill.toMinutes),
      },
      idempotencyKey: key,
    };
    await tx.$executeRaw`
      INSERT INTO overage_bill (idempotency_key, account_id, period_start, epoch, from_minutes, to_minutes,
        amount_cents, currency, request, status, updated_at)
      VALUES (${key}, ${bill.accountId}::uuid, ${periodStart}, ${bill.epoch}, ${bill.fromMinutes},
        ${bill.toMinutes}, ${amount.amount}, ${bill.currency}, ${JSON.stringify(request)}::jsonb, 'pending', now())`;
    return { status: "pending", invoice_item_id: null, request };
  }, METERING_TX_OPTIONS);
  if (!claim) return null;
  if (claim.status === "billed" && claim.invoice_item_id) return { invoiceItemId: claim.invoice_item_id };
  if (claim.status !== "pending") return null;
  const item = await ports.billing.addInvoiceItem(claim.request);
  const recorded = await ports.db.$executeRaw`
    UPDATE overage_bill SET status = 'billed', invoice_item_id = ${item.invoiceItemId}, updated_at = now()
    WHERE idempotency_key = ${key} AND status = 'pending'`;
  // Withdrawn while Stripe answered: the withdrawal deletes the item (it asks Stripe with the same key).
  return recorded === 1 ? item : null;
}

/**
 * Before an upgrade takes effect: the current period will be measured by the new plan as a whole, so the
 * overage already reported for it (under the old plan, not invoiced yet) is withdrawn: its pending invoice
 * items are deleted at Stripe, `overage_reported` goes back to 0 and the epoch moves on, voiding bills not
 * made yet. Returns the cents withdrawn. No lock is held while Stripe answers:
 * 1. a short transaction with the period's row locked moves the epoch on, resets `overage_reported` and
 *    marks the period's claims `voiding` (a bill in flight then records nothing; one not claimed yet is void
 *    by its epoch);
 * 2. at Stripe, each claim that had no item recorded is asked for again with its own key and request (so an
 *    item its bill made, or makes later, is the one Stripe answers with) and deleted, and then every pending
 *    overage item of the period is deleted;
 * 3. the claims are marked `void`. A crash before that leaves them `voiding`: the upgrade's retry does 2
 *    and 3 again.
 */
export async function withdrawCurrentOverage(
  ports: Pick<Ports, "db" | "billing">,
  input: { accountId: string; customerId: string; periodStart: Date },
): Promise<number> {
  const claims = await ports.db.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ overage_reported: number }[]>`
      SELECT overage_reported FROM usage_period_rollup
      WHERE account_id = ${input.accountId}::uuid AND period_start = ${input.periodStart}
      FOR UPDATE`;
    if (!row) return null;
    // The period's minutes drawn from packs go back to their packs too: the new package measures the whole
    // period, and what it does not include is drawn again (report-overage) before any is overage. A pack
    // that has expired since keeps them as expired minutes. The grants are locked after the period's row,
    // in expiry order, as a draw locks them.
    await tx.$executeRaw`
      WITH g AS (
        SELECT g.id FROM pack_grant g JOIN pack_draw d ON d.grant_id = g.id
        WHERE d.account_id = ${input.accountId}::uuid AND d.period_start = ${input.periodStart}
        ORDER BY g.expires_at, g.granted_at, g.id FOR UPDATE OF g
      ), d AS (
        DELETE FROM pack_draw WHERE account_id = ${input.accountId}::uuid AND period_start = ${input.periodStart}
          AND grant_id IN (SELECT id FROM g)
        RETURNING grant_id, minutes
      ), back AS (
        UPDATE pack_grant SET remaining = pack_grant.remaining + d.minutes FROM d WHERE pack_grant.id = d.grant_id
      )
      UPDATE usage_period_rollup SET pack_minutes_drawn = 0
      WHERE account_id = ${input.accountId}::uuid AND period_start = ${input.periodStart}
        AND pack_minutes_drawn > 0`;
    await tx.$executeRaw`
      UPDATE overage_bill SET status = 'voiding', updated_at = now()
      WHERE account_id = ${input.accountId}::uuid AND period_start = ${input.periodStart}
        AND status IN ('pending', 'billed')`;
    const voiding = await tx.$queryRaw<{ key: string; item: string | null; request: InvoiceItemRequest }[]>`
      SELECT idempotency_key AS key, invoice_item_id AS item, request FROM overage_bill
      WHERE account_id = ${input.accountId}::uuid AND period_start = ${input.periodStart} AND status = 'voiding'`;
    if (row.overage_reported === 0 && voiding.length === 0) return null;
    if (row.overage_reported > 0) {
      await tx.$executeRaw`
        UPDATE usage_period_rollup SET overage_reported = 0, overage_epoch = overage_epoch + 1
        WHERE account_id = ${input.accountId}::uuid AND period_start = ${input.periodStart}`;
    }
    return voiding;
  }, METERING_TX_OPTIONS);
  if (!claims) return 0;
  let withdrawn = 0;
  for (const claim of claims) {
    if (claim.item !== null) continue;
    // Its bill may be asking Stripe right now, or may never have: the same key gives the same item.
    const item = await ports.billing.addInvoiceItem(claim.request);
    await ports.billing.deleteInvoiceItem(item.invoiceItemId);
    withdrawn += claim.request.amountCents;
  }
  const items = await ports.billing.listPendingOverageItems(input.customerId, {
    accountId: input.accountId,
    periodStart: input.periodStart,
  });
  for (const item of items) await ports.billing.deleteInvoiceItem(item.invoiceItemId);
  await ports.db.$executeRaw`
    UPDATE overage_bill SET status = 'void', updated_at = now()
    WHERE idempotency_key = ANY(${claims.map((claim) => claim.key)}::text[]) AND status = 'voiding'`;
  return withdrawn + items.reduce((sum, item) => sum + item.amountCents, 0);
}
