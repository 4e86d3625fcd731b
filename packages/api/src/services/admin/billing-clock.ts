// The billing clock: with the Stripe emulator, each customer's billing runs on a Stripe test clock. An
// admin advances an account's clock to watch renewals, scheduled downgrades and failed payments happen;
// Minutely then re-reads the subscription and invoices from Stripe at once (the webhooks follow and change
// nothing more). Minutely's own clock does not move: only Stripe's time for that customer.

import { randomUUID } from "node:crypto";
import { Prisma } from "@minutely/db";
import { currentSubscriptionOf, isLiveSubscription, MS_PER_DAY } from "@minutely/domain";
import type { Ports, Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { PaymentDeclinedError, type ProviderTestClock } from "../../ports/billing.ts";
import { writeAudit } from "../audit.ts";
import { syncRecentInvoices, syncSubscription } from "../billing/index.ts";
import { INVOICE_ORDER } from "../subscriptions/index.ts";
import type { Amount } from "./customers.ts";
import { accountsMatching, chosenSubscriptionOf } from "./sql.ts";

/**
 * One step advances the clock at most this far. Stripe refuses to advance a test clock more than two
 * intervals of its shortest subscription at once; Minutely's plans are monthly, and two calendar months are
 * never shorter than 59 days (February and March, or December 31 to February 28).
 */
export const MAX_ADVANCE_DAYS = 59;
const READY_POLLS = 120;
const READY_POLL_MS = 250;

export function requireEmulator(settings: Ports["settings"]): void {
  if (!settings.stripeEmulator) {
    throw new AppError(
      "PRECONDITION_FAILED",
      "The billing clock is only available while Minutely runs on the Stripe emulator.",
    );
  }
}

export interface ClockAccount {
  accountId: string;
  name: string;
  ownerEmail: string | null;
  planName: string;
  status: string;
  currentPeriodEnd: Date;
}

interface ClockAccountRow {
  account_id: string;
  name: string;
  owner_email: string | null;
  plan_name: string;
  status: string;
  current_period_end: Date;
}

/** Accounts whose subscription runs on a test clock, newest first; a search narrows by name, email or id. */
export async function clockAccounts(
  { db }: Pick<Ports, "db">,
  input: { search?: string | undefined; limit: number },
): Promise<ClockAccount[]> {
  const term = input.search?.trim() ?? "";
  const rows = await db.$queryRaw<ClockAccountRow[]>`
    SELECT a.id AS account_id, a.name, s.status::text AS status, s.current_period_end, pl.name AS plan_name,
      (SELECT u.email FROM account_member m JOIN "user" u ON u.id = m.user_id WHERE m.account_id = a.id AND m.role = 'owner') AS owner_email
    FROM account a
    JOIN LATERAL (${chosenSubscriptionOf(Prisma.sql`a.id`)}) s ON true
    JOIN subscription_plan pl ON pl.id = s.plan_id
    WHERE s.stripe_test_clock_id IS NOT NULL
      ${
        term
          ? Prisma.sql`AND a.id IN (${accountsMatching(term)})`
          : Prisma.sql`AND a.id IN (
        SELECT account_id FROM subscription WHERE stripe_test_clock_id IS NOT NULL ORDER BY created_at DESC LIMIT ${input.limit * 4})`
      }
    ORDER BY a.created_at DESC, a.id DESC
    LIMIT ${input.limit}`;
  return rows.map((r) => ({
    accountId: r.account_id,
    name: r.name,
    ownerEmail: r.owner_email,
    planName: r.plan_name,
    status: r.status,
    currentPeriodEnd: r.current_period_end,
  }));
}

export interface ClockInvoice {
  stripeInvoiceId: string;
  number: string | null;
  status: string;
  billingReason: string | null;
  total: Amount;
  amountDueCents: number;
  issuedAt: Date;
  hostedInvoiceUrl: string | null;
}

export interface BillingClockState {
  account: { id: string; name: string; stripeCustomerId: string | null };
  subscription: {
    stripeSubscriptionId: string;
    status: string;
    planName: string;
    currentPeriodStart: Date;
    currentPeriodEnd: Date;
    cancelAtPeriodEnd: boolean;
    scheduledChange: { planName: string; at: Date | null } | null;
  } | null;
  clock: ProviderTestClock | null;
  invoices: ClockInvoice[];
  maxAdvanceDays: number;
}

async function loadAccount(db: Ports["db"], accountId: string) {
  const account = await db.account.findUnique({ where: { id: accountId } });
  if (!account) throw new AppError("NOT_FOUND", "No such customer.", "accountId");
  const subscriptions = await db.subscription.findMany({
    where: { accountId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    include: { plan: true, scheduledPlan: true },
    take: 20,
  });
  return { account, subscriptions, chosen: currentSubscriptionOf(subscriptions) };
}

/** The account's subscription, its test clock's time and its latest invoices. */
export async function billingClockState(
  ports: Pick<Ports, "db" | "billing" | "settings">,
  accountId: string,
): Promise<BillingClockState> {
  requireEmulator(ports.settings);
  const { account, chosen } = await loadAccount(ports.db, accountId);
  const [clock, invoices] = await Promise.all([
    chosen?.stripeTestClockId ? ports.billing.retrieveTestClock(chosen.stripeTestClockId) : null,
    ports.db.billingHistory.findMany({
      where: { accountId },
      orderBy: INVOICE_ORDER,
      take: 10,
    }),
  ]);
  return {
    account: { id: account.id, name: account.name, stripeCustomerId: account.stripeCustomerId },
    subscription: chosen
      ? {
          stripeSubscriptionId: chosen.stripeSubscriptionId,
          status: chosen.status,
          planName: chosen.plan.name,
          currentPeriodStart: chosen.currentPeriodStart,
          currentPeriodEnd: chosen.currentPeriodEnd,
          cancelAtPeriodEnd: chosen.cancelAtPeriodEnd,
          scheduledChange: chosen.scheduledPlan
            ? { planName: chosen.scheduledPlan.name, at: chosen.scheduledChangeAt }
            : null,
        }
      : null,
    clock,
    invoices: invoices.map((i) => ({
      stripeInvoiceId: i.stripeInvoiceId,
      number: i.number,
      status: i.status,
      billingReason: i.billingReason,
      total: { amount: i.totalCents, currency: i.currency.trim().toLowerCase() },
      amountDueCents: i.amountDueCents,
      issuedAt: i.issuedAt,
      hostedInvoiceUrl: i.hostedInvoiceUrl,
    })),
    maxAdvanceDays: MAX_ADVANCE_DAYS,
  };
}

async function requireClock(ports: Pick<Ports, "db">, accountId: string) {
  const loaded = await loadAccount(ports.db, accountId);
  const clockId = loaded.chosen?.stripeTestClockId;
  if (!loaded.chosen || !clockId) {
    throw new AppError(
      "PRECONDITION_FAILED",
      "This account's subscription has no Stripe test clock, so its time cannot be advanced.",
      "accountId",
    );
  }
  return { ...loaded, chosen: loaded.chosen, clockId };
}

/** Re-reads the account's live subscriptions and recent invoices from Stripe. */
async function syncAccount(ports: Ports, accountId: string): Promise<void> {
  const subscriptions = await ports.db.subscription.findMany({
    where: { accountId },
    orderBy: { createdAt: "desc" },
    take: 20,
  });
  const chosen = currentSubscriptionOf(subscriptions);
  for (const s of subscriptions) {
    if (s === chosen || isLiveSubscription(s.status)) await syncSubscription(ports, s.stripeSubscriptionId);
  }
  await syncRecentInvoices(ports, accountId, 10);
}

function summary(state: BillingClockState) {
  return {
    frozenTime: state.clock?.frozenTime ?? null,
    status: state.subscription?.status ?? null,
    planName: state.subscription?.planName ?? null,
    currentPeriodEnd: state.subscription?.currentPeriodEnd ?? null,
    invoices: state.invoices.length,
  };
}

/**
 * Advances the account's test clock to `to` (later than its time now, at most MAX_ADVANCE_DAYS ahead),
 * waits until Stripe has processed everything due, syncs, and records the action in the audit log.
 */
export async function advanceBillingClock(
  ports: Ports,
  actor: Viewer,
  input: { accountId: string; to: Date },
): Promise<BillingClockState> {
  requireEmulator(ports.settings);
  const { clockId } = await requireClock(ports, input.accountId);
  const before = await billingClockState(ports, input.accountId);
  const frozen = before.clock?.frozenTime;
  if (frozen && input.to.getTime() <= frozen.getTime()) {
    throw new AppError("BAD_REQUEST", "Choose a moment after the clock's current time.", "to");
  }
  if (frozen && input.to.getTime() - frozen.getTime() > MAX_ADVANCE_DAYS * MS_PER_DAY) {
    throw new AppError(
      "BAD_REQUEST",
      `Advance at most ${MAX_ADVANCE_DAYS} days at a time (Stripe moves a test clock at most two billing periods at once; it processes every renewal on the way).`,
      "to",
    );
  }
  await ports.billing.advanceTestClock(clockId, input.to);
  for (let poll = 0; poll < READY_POLLS; poll++) {
    const clock = await ports.billing.retrieveTestClock(clockId);
    if (clock.status === "ready") break;
    if (clock.status === "internal_failure") {
      throw new AppError("UPSTREAM_UNAVAILABLE", "Stripe could not advance the test clock.");
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  await syncAccount(ports, input.accountId);
  const after = await billingClockState(ports, input.accountId);
  await writeAudit(
    ports.db,
    actor,
    {
      action: "billing_clock.advance",
      entityType: "account",
      entityId: input.accountId,
      before: summary(before),
      after: summary(after),
    },
    ports.clock.now(),
  );
  return after;
}

/** Stripe test cards the billing clock can give a customer. */
export const CLOCK_CARDS = {
  working: { paymentMethodId: "pm_card_visa", label: "Visa •••• 4242 (payments succeed)" },
  failing: {
    paymentMethodId: "pm_card_chargeCustomerFail",
    label: "Visa •••• 0341 (attaches, every charge is declined)",
  },
} as const;
export type ClockCard = keyof typeof CLOCK_CARDS;

/**
 * Gives the customer a test card that pays or one whose charges are declined, so the next renewal fails
 * (or, with a working card, open invoices are paid again at once: recovery from past_due). Never to a
 * deleted account (404 naming accountId): nothing charges it any more. Its clock can still be advanced, to
 * watch its subscription end.
 */
export async function setBillingClockCard(
  ports: Ports,
  actor: Viewer,
  input: { accountId: string; card: ClockCard },
): Promise<BillingClockState & { declined: string | null }> {
  requireEmulator(ports.settings);
  const { account, chosen } = await requireClock(ports, input.accountId);
  const { deletedAt } = await ports.db.account.findUniqueOrThrow({
    where: { id: input.accountId },
    select: { deletedAt: true },
  });
  if (deletedAt) {
    throw new AppError(
      "NOT_FOUND",
      "This account has been deleted: nothing charges it any more, so it takes no card.",
      "accountId",
    );
  }
  if (!account.stripeCustomerId) {
    throw new AppError("PRECONDITION_FAILED", "This account has no Stripe customer.", "accountId");
  }
  const card = CLOCK_CARDS[input.card];
  const key = `minutely-admin-clock-card-${input.accountId}-${randomUUID()}`;
  const paymentMethodId = await ports.billing.attachDefaultPaymentMethod(
    account.stripeCustomerId,
    card.paymentMethodId,
    `${key}-customer`,
  );
  let declined: string | null = null;
  try {
    await ports.billing.useForSubscription(
      chosen.stripeSubscriptionId,
      paymentMethodId,
      `${key}-subscription`,
    );
  } catch (error) {
    if (!(error instanceof PaymentDeclinedError)) throw error;
    declined = "Stripe retried the open invoices with this card and it was declined.";
  }
  await syncAccount(ports, input.accountId);
  const after = await billingClockState(ports, input.accountId);
  await writeAudit(
    ports.db,
    actor,
    {
      action: "billing_clock.card",
      entityType: "account",
      entityId: input.accountId,
      after: { card: input.card, paymentMethod: paymentMethodId, declined: declined !== null },
    },
    ports.clock.now(),
  );
  return { ...after, declined };
}
