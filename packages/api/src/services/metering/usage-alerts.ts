// Usage alerts: rows at 80% and 100% of the included minutes (plus the customer's own thresholds), once per
// account, period and threshold, shown in the app and emailed through the mailer port. Spend cap alerts
// (kind `spend_cap`, 50/80/100% of the customer's overage budget) go the same way, once per period and
// budget amount each (a new budget's thresholds fire again), checked on usage and when the budget changes.
import { transactionLock, type UsageAlert, type UsageAlertKind } from "@minutely/db";
import {
  crossedSpendCapThresholds,
  crossedThresholds,
  DEFAULT_ALERT_THRESHOLDS,
  formatMoney,
  formatNumber,
  type Money,
  overageMinutes,
  type SpendCap,
  spendCapStatus,
  spendCapThresholdsReachedByChange,
} from "@minutely/domain";
import type { Ports } from "../../context.ts";
import { AppError } from "../../errors.ts";
import type { JobQueue } from "../../ports/queue.ts";
import type { SqlTransaction } from "../../sql-transaction.ts";
import { lockLiveAccount } from "../live-account.ts";
import { ownerOf } from "../owner.ts";
import { loadAccountPeriod } from "./periods.ts";
import { METERING_TX_OPTIONS, type MeteringPlan } from "./subscription.ts";

/** Custom thresholds a customer may add on top of the defaults. */
export const MAX_CUSTOM_THRESHOLDS = 5;
export const MIN_THRESHOLD_PERCENT = 1;
export const MAX_THRESHOLD_PERCENT = 200;

/** Every threshold that applies to an account: the defaults and its own, ascending, once each. */
export function alertThresholds(custom: readonly number[]): number[] {
  return [...new Set([...DEFAULT_ALERT_THRESHOLDS, ...custom])].sort((a, b) => a - b);
}

const dates = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeZone: "UTC" });

export interface AlertText {
  kind: UsageAlertKind;
  message: string;
  subject: string;
}

/**
 * What an alert at `percent` says, given the package's overage policy. `supersededBy` is the highest
 * threshold the same usage update crossed when it is above `percent`: usage went straight past this
 * threshold, so the text says it was passed and where usage is now (the higher alert is the one emailed).
 */
export function describeAlert(input: {
  plan: Pick<MeteringPlan, "callMinutesLimit" | "overagePrice">;
  percent: number;
  minutesUsed: number;
  periodEnd: Date;
  supersededBy?: number | undefined;
}): AlertText {
  const { plan, percent, minutesUsed, periodEnd, supersededBy } = input;
  const limit = plan.callMinutesLimit;
  const used = `${formatNumber(minutesUsed)} of ${formatNumber(limit)} minutes`;
  const renews = `The allowance renews on ${dates.format(periodEnd)} (UTC).`;
  const kind: UsageAlertKind =
    percent < 100 ? "threshold" : plan.overagePrice !== null ? "overage" : "limit_reached";
  return { kind, subject: subjectFor(kind, percent), message: alertMessage() };

  function alertMessage(): string {
    if (supersededBy !== undefined && supersededBy > percent) {
      const passed =
        percent === 100
          ? `You used up your ${formatNumber(limit)} included call minutes and, in the same update, reached ${supersededBy}%`
          : `Your usage passed ${percent}% of your included call minutes and, in the same update, reached ${supersededBy}%`;
      const consequence =
        percent < 100
          ? ""
          : plan.overagePrice !== null
            ? ` Calls continue; ${formatNumber(overageMinutes(minutesUsed, limit))} minutes beyond the limit are billed at ${formatMoney(plan.overagePrice)} each on your next invoice.`
            : " Outbound calls are paused; inbound calls are still answered.";
      return `${passed}: you are now at ${used} this billing period.${consequence} ${renews}`;
    }
    if (kind === "threshold") {
      return `You have reached ${percent}% of your included call minutes (${used} used) this billing period. ${renews}`;
    }
    if (plan.overagePrice !== null) {
      const price = formatMoney(plan.overagePrice);
      const beyond = overageMinutes(minutesUsed, limit);
      return percent === 100
        ? `You have used all ${formatNumber(limit)} included call minutes. Calls continue; every minute beyond the limit is billed at ${price} a minute on your next invoice. ${renews}`
        : `You have reached ${percent}% of your included call minutes (${used} used); ${formatNumber(beyond)} minutes beyond the limit are billed at ${price} each on your next invoice. ${renews}`;
    }
    return percent === 100
      ? `You have used all ${formatNumber(limit)} included call minutes. Outbound calls are paused until the allowance renews; inbound calls are still answered. Upgrade your package for more minutes. ${renews}`
      : `You have reached ${percent}% of your included call minutes (${used} used). Outbound calls are paused; inbound calls are still answered. ${renews}`;
  }
}

/**
 * What a spend cap alert at `percent` of the budget says: the overage so far against the budget, and at
 * 100% that outbound calls are paused until the period renews or the budget is raised.
 */
export function describeSpendCapAlert(input: {
  limit: number;
  price: Money;
  cap: SpendCap;
  percent: number;
  minutesUsed: number;
  periodEnd: Date;
  /** The highest budget threshold the same update crossed, when above `percent` (see describeAlert). */
  supersededBy?: number | undefined;
}): AlertText {
  const { limit, price, cap, percent, minutesUsed, periodEnd, supersededBy } = input;
  const budget = formatMoney({ amount: cap.amountCents, currency: cap.currency });
  const spent = formatMoney({
    amount: spendCapStatus({ minutesUsed, limit, price, cap }).spentCents,
    currency: price.currency,
  });
  const renews = `The budget starts again on ${dates.format(periodEnd)} (UTC).`;
  const paused =
    "Outbound calls are paused until the next period or until you raise the budget; inbound calls are still answered and their minutes beyond the budget are not billed.";
  const message =
    supersededBy !== undefined && supersededBy > percent
      ? `Your overage this billing period passed ${percent}% of your ${budget} budget and, in the same update, reached ${supersededBy >= 100 ? "all of it" : `${supersededBy}%`} (${spent}).${supersededBy >= 100 ? ` ${paused}` : ""} ${renews}`
      : percent >= 100
        ? `Your overage budget of ${budget} is used up (${spent} of overage this billing period). ${paused} ${renews}`
        : `Your overage this billing period has reached ${percent}% of your ${budget} budget (${spent}). At 100% outbound calls are paused. ${renews}`;
  return { kind: "spend_cap", subject: subjectFor("spend_cap", percent), message };
}

export interface PeriodUsageChange {
  accountId: string;
  periodStart: Date;
  periodEnd: Date;
  before: number;
  after: number;
  plan: Pick<MeteringPlan, "callMinutesLimit" | "overagePrice">;
  customThresholds: readonly number[];
  /** The account's overage budget (null or absent: none). */
  spendCap?: SpendCap | null;
}

/**
 * Inside the transaction that moved usage from `before` to `after`: records an alert for every threshold
 * crossed and, in the same transaction, enqueues the email of the highest one recorded per account and
 * period. The lower ones of the same update are shown in the app, say that usage went past them (see
 * {@link describeAlert}) and are never emailed (`emailed_at` stays null), so one update sends one email.
 * The unique (account, period, threshold, included minutes) key makes each fire once per period and plan
 * even if two transactions ever computed the same crossing; after an upgrade the new package's thresholds
 * fire again when usage crosses them.
 */
export async function recordCrossedAlerts(
  tx: SqlTransaction,
  queue: JobQueue,
  changes: readonly PeriodUsageChange[],
  now: Date,
): Promise<string[]> {
  const accountIds: string[] = [];
  const periodStarts: Date[] = [];
  const percents: number[] = [];
  const kinds: UsageAlertKind[] = [];
  const used: number[] = [];
  const limits: number[] = [];
  const budgets: number[] = [];
  const messages: string[] = [];
  const sorted = [...changes].sort(
    (a, b) => a.accountId.localeCompare(b.accountId) || a.periodStart.getTime() - b.periodStart.getTime(),
  );
  for (const change of sorted) {
    const limit = change.plan.callMinutesLimit;
    const crossed = crossedThresholds({
      before: change.before,
      after: change.after,
      limit,
      thresholds: alertThresholds(change.customThresholds),
    });
    const highest = crossed.at(-1);
    for (const percent of crossed) {
      const text = describeAlert({
        plan: change.plan,
        percent,
        minutesUsed: change.after,
        periodEnd: change.periodEnd,
        supersededBy: highest,
      });
      accountIds.push(change.accountId);
      periodStarts.push(change.periodStart);
      percents.push(percent);
      kinds.push(text.kind);
      used.push(change.after);
      limits.push(limit);
      budgets.push(0);
      messages.push(text.message.slice(0, 500));
    }
    const price = change.plan.overagePrice;
    const cap = change.spendCap ?? null;
    if (price === null || cap === null) continue;
    const spendCrossed = crossedSpendCapThresholds({
      before: change.before,
      after: change.after,
      limit,
      price,
      cap,
    });
    for (const percent of spendCrossed) {
      const text = describeSpendCapAlert({
        limit,
        price,
        cap,
        percent,
        minutesUsed: change.after,
        periodEnd: change.periodEnd,
        supersededBy: spendCrossed.at(-1),
      });
      accountIds.push(change.accountId);
      periodStarts.push(change.periodStart);
      percents.push(percent);
      kinds.push(text.kind);
      used.push(change.after);
      limits.push(limit);
      budgets.push(cap.amountCents);
      messages.push(text.message.slice(0, 500));
    }
  }
  return await insertAlerts(tx, queue, {
    accountIds,
    periodStarts,
    percents,
    kinds,
    used,
    limits,
    budgets,
    messages,
    now,
  });
}

/** Columns of the alerts to record, one entry each (see recordCrossedAlerts). */
interface AlertColumns {
  accountIds: string[];
  periodStarts: Date[];
  percents: number[];
  kinds: UsageAlertKind[];
  used: number[];
  limits: number[];
  budgets: number[];
  messages: string[];
  now: Date;
}

async function insertAlerts(
  tx: SqlTransaction,
  queue: JobQueue,
  { accountIds, periodStarts, percents, kinds, used, limits, budgets, messages, now }: AlertColumns,
): Promise<string[]> {
  if (accountIds.length === 0) return [];
  const inserted = await tx.$queryRaw<
    { id: string; account_id: string; period_start: Date; threshold_percent: number; kind: UsageAlertKind }[]
  >`
    INSERT INTO usage_alert
      (id, account_id, period_start, threshold_percent, kind, minutes_used, minutes_limit, budget_cents,
        message, created_at)
    SELECT gen_random_uuid(), t.account_id, t.period_start, t.percent, t.kind, t.used, t.lim, t.budget,
      t.message, ${now}
    FROM unnest(
      ${accountIds}::uuid[], ${periodStarts}::timestamptz[], ${percents}::int[],
      ${kinds}::"UsageAlertKind"[], ${used}::int[], ${limits}::int[], ${budgets}::int[], ${messages}::text[]
    ) AS t(account_id, period_start, percent, kind, used, lim, budget, message)
    ON CONFLICT (account_id, period_start, threshold_percent, minutes_limit, kind, budget_cents) DO NOTHING
    RETURNING id, account_id, period_start, threshold_percent, kind`;
  // One email per account and period: the highest threshold this transaction recorded (one of the included
  // minutes' alerts and one of the spend cap's).
  const toEmail = new Map<string, (typeof inserted)[number]>();
  for (const row of inserted) {
    const key = `${row.account_id}:${row.period_start.getTime()}:${row.kind === "spend_cap"}`;
    const current = toEmail.get(key);
    if (!current || row.threshold_percent > current.threshold_percent) toEmail.set(key, row);
  }
  await queue.enqueueMany(
    [...toEmail.values()].map(({ id }) => ({
      task: "send-usage-alert-email",
      payload: { alertId: id },
      options: { jobKey: `usage-alert-email:${id}` },
    })),
    tx,
  );
  return inserted.map((row) => row.id);
}

/**
 * Inside the transaction that changed the account's budget (with the period's row locked): records the
 * spend cap alerts the new budget reaches at once at the minutes already used (the domain's
 * `spendCapThresholdsReachedByChange`; a budget lowered below the overage used alerts 100%: outbound calls
 * are paused) and enqueues the email of the highest, as a usage update would.
 */
export async function recordSpendCapChangeAlerts(
  tx: SqlTransaction,
  queue: JobQueue,
  change: {
    accountId: string;
    periodStart: Date;
    periodEnd: Date;
    minutesUsed: number;
    plan: Pick<MeteringPlan, "callMinutesLimit" | "overagePrice">;
    before: SpendCap | null;
    after: SpendCap | null;
  },
  now: Date,
): Promise<string[]> {
  const { plan, after: cap, minutesUsed } = change;
  const price = plan.overagePrice;
  if (price === null || cap === null) return [];
  const limit = plan.callMinutesLimit;
  const reached = spendCapThresholdsReachedByChange({
    used: minutesUsed,
    limit,
    price,
    before: change.before,
    after: cap,
  });
  const texts = reached.map((percent) =>
    describeSpendCapAlert({
      limit,
      price,
      cap,
      percent,
      minutesUsed,
      periodEnd: change.periodEnd,
      supersededBy: reached.at(-1),
    }),
  );
  return await insertAlerts(tx, queue, {
    accountIds: reached.map(() => change.accountId),
    periodStarts: reached.map(() => change.periodStart),
    percents: reached,
    kinds: texts.map((text) => text.kind),
    used: reached.map(() => minutesUsed),
    limits: reached.map(() => limit),
    budgets: reached.map(() => cap.amountCents),
    messages: texts.map((text) => text.message.slice(0, 500)),
    now,
  });
}

/** The email of the person to tell about an account: its owner. */
async function recipientOf(db: Ports["db"], accountId: string): Promise<string | null> {
  return (await ownerOf(db, accountId))?.email ?? null;
}

/**
 * The background task: emails one alert (once, whatever the retries) and records when. An alert recorded
 * by the same usage update as a higher one (same account, period, usage and time) is not emailed, even if
 * a job for it exists (queued before this rule, or replayed): the higher alert's email covers it, and its
 * `emailed_at` stays null so nothing claims it was emailed.
 */
export async function sendUsageAlertEmail(ports: Pick<Ports, "db" | "clock" | "mailer">, alertId: string) {
  const alert = await ports.db.usageAlert.findUnique({ where: { id: alertId } });
  if (!alert || alert.emailedAt) return;
  const higher = await ports.db.usageAlert.findFirst({
    where: {
      accountId: alert.accountId,
      periodStart: alert.periodStart,
      minutesUsed: alert.minutesUsed,
      createdAt: alert.createdAt,
      thresholdPercent: { gt: alert.thresholdPercent },
      kind: alert.kind === "spend_cap" ? "spend_cap" : { not: "spend_cap" },
    },
    select: { id: true },
  });
  if (higher) return;
  const to = await recipientOf(ports.db, alert.accountId);
  if (!to) return;
  await ports.mailer.send({
    to,
    subject: subjectFor(alert.kind, alert.thresholdPercent),
    text: `${alert.message}\n\nSee your usage and alerts in Minutely.`,
    dedupeKey: `usage-alert:${alert.id}`,
  });
  await ports.db.usageAlert.updateMany({
    where: { id: alert.id, emailedAt: null },
    data: { emailedAt: ports.clock.now() },
  });
}

/** The email subject of an alert. */
export function subjectFor(kind: UsageAlertKind, percent: number): string {
  if (kind === "spend_cap") {
    return percent >= 100
      ? "Minutely: overage budget used up, outbound calls paused"
      : `Minutely: ${percent}% of your overage budget used`;
  }
  if (percent !== 100) return `Minutely: ${percent}% of your call minutes used`;
  return kind === "overage"
    ? "Minutely: included call minutes used up, overage billing started"
    : "Minutely: call minutes used up, outbound calls paused";
}

export interface UsageAlertView {
  id: string;
  kind: UsageAlertKind;
  thresholdPercent: number;
  periodStart: Date;
  minutesUsed: number;
  minutesLimit: number;
  message: string;
  createdAt: Date;
  emailed: boolean;
}

/**
 * The account's active alerts, newest first: undismissed ones that are still true. An alert belongs to a
 * period and a plan: it is active only while its period is the account's current period (one rule,
 * `loadAccountPeriod`) and the plan's included minutes are those it was measured against (an upgrade makes
 * "80% of 3,000" untrue). The others stay recorded (history: the admin's customer page lists them).
 */
export async function listActiveAlerts(
  ports: Pick<Ports, "db" | "clock">,
  accountId: string,
): Promise<UsageAlertView[]> {
  const { db } = ports;
  const current = await loadAccountPeriod(ports, accountId);
  if (!current) return [];
  const rows = await db.usageAlert.findMany({
    where: {
      accountId,
      dismissedAt: null,
      periodStart: current.period.start,
      minutesLimit: current.subscription.plan.callMinutesLimit,
    },
    orderBy: [{ createdAt: "desc" }, { thresholdPercent: "desc" }],
    take: ACTIVE_ALERTS_SHOWN,
  });
  return rows.map(alertViewOf);
}

/** The most active alerts listed. */
export const ACTIVE_ALERTS_SHOWN = 50;

/** An alert as the customer sees it. */
export function alertViewOf(row: UsageAlert): UsageAlertView {
  return {
    id: row.id,
    kind: row.kind,
    thresholdPercent: row.thresholdPercent,
    periodStart: row.periodStart,
    minutesUsed: row.minutesUsed,
    minutesLimit: row.minutesLimit,
    message: row.message,
    createdAt: row.createdAt,
    emailed: row.emailedAt !== null,
  };
}

/** Dismisses one of the account's alerts; another account's alert is NOT_FOUND. */
export async function dismissAlert(
  { db, clock }: Pick<Ports, "db" | "clock">,
  accountId: string,
  alertId: string,
): Promise<{ id: string; dismissedAt: Date }> {
  const alert = await db.usageAlert.findFirst({ where: { id: alertId, accountId } });
  if (!alert) throw new AppError("NOT_FOUND", "This alert does not exist.", "id");
  if (alert.dismissedAt) return { id: alert.id, dismissedAt: alert.dismissedAt };
  const dismissedAt = clock.now();
  await db.usageAlert.updateMany({
    where: { id: alertId, accountId, dismissedAt: null },
    data: { dismissedAt },
  });
  return { id: alert.id, dismissedAt };
}

export interface ThresholdsView {
  defaults: number[];
  custom: number[];
  max: number;
}

export async function listThresholds({ db }: Pick<Ports, "db">, accountId: string): Promise<ThresholdsView> {
  const rows = await db.alertThreshold.findMany({ where: { accountId }, orderBy: { percent: "asc" } });
  return {
    defaults: [...DEFAULT_ALERT_THRESHOLDS],
    custom: rows.map((r) => r.percent),
    max: MAX_CUSTOM_THRESHOLDS,
  };
}

/** Adds a custom threshold (idempotent); at most {@link MAX_CUSTOM_THRESHOLDS}, the defaults are always on. */
export async function addThreshold(
  { db, clock }: Pick<Ports, "db" | "clock">,
  accountId: string,
  percent: number,
): Promise<ThresholdsView> {
  if (!Number.isInteger(percent) || percent < MIN_THRESHOLD_PERCENT || percent > MAX_THRESHOLD_PERCENT) {
    throw new AppError(
      "BAD_REQUEST",
      `Choose a whole percentage from ${MIN_THRESHOLD_PERCENT} to ${MAX_THRESHOLD_PERCENT}.`,
      "percent",
    );
  }
  if (DEFAULT_ALERT_THRESHOLDS.includes(percent)) {
    throw new AppError("BAD_REQUEST", `Alerts at ${percent}% are always on.`, "percent");
  }
  await db.$transaction(async (tx) => {
    await tx.$executeRaw(transactionLock("thresholds", accountId));
    await lockLiveAccount(tx, accountId);
    const existing = await tx.alertThreshold.findMany({ where: { accountId }, select: { percent: true } });
    if (existing.some((t) => t.percent === percent)) return;
    if (existing.length >= MAX_CUSTOM_THRESHOLDS) {
      throw new AppError(
        "CONFLICT",
        `You can set at most ${MAX_CUSTOM_THRESHOLDS} custom alert thresholds. Remove one first.`,
        "percent",
      );
    }
    await tx.alertThreshold.create({ data: { accountId, percent, createdAt: clock.now() } });
  }, METERING_TX_OPTIONS);
  return await listThresholds({ db }, accountId);
}

export async function removeThreshold(
  { db }: Pick<Ports, "db">,
  accountId: string,
  percent: number,
): Promise<ThresholdsView> {
  const { count } = await db.alertThreshold.deleteMany({ where: { accountId, percent } });
  if (count === 0) throw new AppError("NOT_FOUND", `There is no custom alert at ${percent}%.`, "percent");
  return await listThresholds({ db }, accountId);
}
