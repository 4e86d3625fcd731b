// Admins manage the package catalog. Every change is validated (zod for shapes, packages/domain for the
// business rules), written with its audit entry in one transaction, then synced to Stripe: a product per
// package and a monthly price per price point. Prices are immutable, so a price change adds a new price;
// subscribers stay on theirs until they change plan.
import {
  type PlanPrice,
  type Prisma,
  type SubscriptionPlan,
  type SubscriptionPlanPrice,
  transactionLock,
} from "@minutely/db";
import {
  CURRENCIES,
  type Currency,
  isCurrency,
  PACKAGE_LIMITS,
  type PackageNumberField,
  PLAN_DESCRIPTION_MAX_LENGTH,
  PLAN_NAME_MAX_LENGTH,
  packageNumberMessage,
  TRIAL_LIMITS,
  validateCurrencyPrices,
  validatePlan,
  validateTrial,
} from "@minutely/domain";
import { z } from "zod";
import type { Ports, Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { writeAudit } from "../audit.ts";
import {
  type PackageView,
  type PlanRow,
  toPackageView,
  toPlanDefinition,
  WITH_CURRENCY_PRICES,
} from "./packages.ts";

/** A package number in its range (PACKAGE_LIMITS), refused in the words the admin form uses too. */
function packageNumber(field: PackageNumberField) {
  const { min, max } = PACKAGE_LIMITS[field];
  return z
    .number()
    .int(packageNumberMessage(field, "fraction"))
    .min(min, packageNumberMessage(field, "below"))
    .max(max, packageNumberMessage(field, "above"));
}

/** The package's price in one of its other currencies (minor units of that currency). */
const ZCurrencyPriceSchema = z.strictObject({
  amountCents: packageNumber("monthlyPriceCents"),
  overagePriceCentsPerMinute: packageNumber("overagePriceCentsPerMinute").nullable(),
});

export const ZPackageInputSchema = z.strictObject({
  name: z.string().trim().min(1, "Name is required").max(PLAN_NAME_MAX_LENGTH),
  description: z.string().trim().max(PLAN_DESCRIPTION_MAX_LENGTH).default(""),
  monthlyPriceCents: packageNumber("monthlyPriceCents"),
  currency: z.custom<Currency>((value) => isCurrency(value), "Use one of usd, eur, gbp"),
  callMinutesLimit: packageNumber("callMinutesLimit"),
  agentsAllowed: packageNumber("agentsAllowed"),
  analyticsAccess: z.boolean(),
  apiAccess: z.boolean(),
  /** Price of a minute beyond the limit; null means a hard cap at the limit. */
  overagePriceCentsPerMinute: packageNumber("overagePriceCentsPerMinute").nullable(),
  recommended: z.boolean(),
  /** The free trial's length in days (TRIAL_LIMITS), or null for none; absent: as it is (a new package: none). */
  trialDays: z
    .number()
    .int("Trial days must be a whole number (or null for no trial).")
    .min(
      TRIAL_LIMITS.minDays,
      `Trial days must be between ${TRIAL_LIMITS.minDays} and ${TRIAL_LIMITS.maxDays}.`,
    )
    .max(
      TRIAL_LIMITS.maxDays,
      `Trial days must be between ${TRIAL_LIMITS.minDays} and ${TRIAL_LIMITS.maxDays}.`,
    )
    .nullable()
    .optional(),
  /** Whether Checkout asks for a card before the trial starts (absent: as it is; a new package: true). */
  trialRequiresCard: z.boolean().optional(),
  /**
   * The package's prices in its other currencies (a currency left out cannot be bought in); absent: as they
   * are (a new package: none). Its own currency's price is `monthlyPriceCents` above.
   */
  prices: z
    .strictObject({
      usd: ZCurrencyPriceSchema.optional(),
      eur: ZCurrencyPriceSchema.optional(),
      gbp: ZCurrencyPriceSchema.optional(),
    })
    .optional(),
});
/** A package as received (the trial fields may be absent: no trial, a card required). */
export type PackageInput = z.input<typeof ZPackageInputSchema>;

/** Domain field names -> input field names, so validation messages name the form field. */
const FIELD_OF: Record<string, keyof PackageInput> = {
  name: "name",
  description: "description",
  monthlyPrice: "monthlyPriceCents",
  "monthlyPrice.amount": "monthlyPriceCents",
  "monthlyPrice.currency": "currency",
  callMinutesLimit: "callMinutesLimit",
  agentsAllowed: "agentsAllowed",
  overagePricePerMinute: "overagePriceCentsPerMinute",
  "overagePricePerMinute.amount": "overagePriceCentsPerMinute",
  recommended: "recommended",
};

const CATALOG_LOCK = transactionLock("catalog");

/**
 * Writes the package's prices per currency with the package: its own currency's row from the package's
 * price (always), and, when the input lists them, exactly the other currencies it lists (a currency left out
 * loses its row: it can no longer be bought in; subscribers already on its Stripe price stay on it). A row
 * whose amount changed loses its Stripe price id, so the sync gives it a new one.
 */
async function writeCurrencyPrices(
  tx: Prisma.TransactionClient,
  plan: SubscriptionPlan,
  prices: PackageInput["prices"],
  previousOwn: string = plan.currency,
): Promise<void> {
  const own = plan.currency as Currency;
  const wanted = new Map<Currency, { amountCents: number; overagePriceCentsPerMinute: number | null }>();
  wanted.set(own, {
    amountCents: plan.monthlyPriceCents,
    overagePriceCentsPerMinute: plan.overagePriceCentsPerMinute,
  });
  const existing = await tx.subscriptionPlanPrice.findMany({ where: { planId: plan.id } });
  for (const currency of CURRENCIES) {
    if (currency === own) continue;
    // Prices left as they are keep every other currency's row but the package's former own currency's.
    const given =
      prices === undefined
        ? existing.find((r) => r.currency === currency && r.currency !== previousOwn)
        : prices[currency];
    if (given) {
      wanted.set(currency, {
        amountCents: given.amountCents,
        overagePriceCentsPerMinute: given.overagePriceCentsPerMinute,
      });
    }
  }
  const goneRows = existing.filter((r) => !wanted.has(r.currency as Currency));
  await assertNoLiveSubscribersIn(tx, plan, goneRows, previousOwn);
  const gone = goneRows.map((r) => r.id);
  if (gone.length > 0) await tx.subscriptionPlanPrice.deleteMany({ where: { id: { in: gone } } });
  for (const [currency, amounts] of wanted) {
    const row = existing.find((r) => r.currency === currency);
    if (!row) {
      await tx.subscriptionPlanPrice.create({ data: { planId: plan.id, currency, ...amounts } });
    } else if (
      row.amountCents !== amounts.amountCents ||
      row.overagePriceCentsPerMinute !== amounts.overagePriceCentsPerMinute
    ) {
      await tx.subscriptionPlanPrice.update({
        where: { id: row.id },
        data: { ...amounts, ...(row.amountCents !== amounts.amountCents ? { stripePriceId: null } : {}) },
      });
    }
  }
}

/**
 * A currency's price stays while a live subscription bills in it (or will, through a scheduled change):
 * its overage and renewals are priced by it, and Minutely never converts a price into another currency.
 * Removing it is refused (409 naming `prices.<currency>`, or `currency` for the package's former own).
 */
async function assertNoLiveSubscribersIn(
  tx: Prisma.TransactionClient,
  plan: SubscriptionPlan,
  goneRows: readonly SubscriptionPlanPrice[],
  previousOwn: string,
): Promise<void> {
  for (const row of goneRows) {
    const currency = row.currency.trim().toLowerCase();
    const live = await tx.subscription.count({
      where: {
        currency,
        status: { notIn: ["canceled", "incomplete_expired"] },
        OR: [{ planId: plan.id }, { scheduledPlanId: plan.id }],
      },
    });
    if (live > 0) {
      throw new AppError(
        "CONFLICT",
        `${live} live ${live === 1 ? "subscription bills" : "subscriptions bill"} ${plan.name} in ${currency.toUpperCase()}: keep its ${currency.toUpperCase()} price (change its amount instead) until ${live === 1 ? "it ends" : "they end"}.`,
        currency === previousOwn.trim().toLowerCase() ? "currency" : `prices.${currency}`,
      );
    }
  }
}

function rowData(input: PackageInput) {
  return {
    name: input.name,
    description: input.description ?? "",
    monthlyPriceCents: input.monthlyPriceCents,
    currency: input.currency,
    callMinutesLimit: input.callMinutesLimit,
    agentsAllowed: input.agentsAllowed,
    analyticsAccess: input.analyticsAccess,
    apiAccess: input.apiAccess,
    overagePriceCentsPerMinute: input.overagePriceCentsPerMinute,
    recommended: input.recommended,
    // Absent trial fields leave the package's trial as it is (a new package: none, a card required).
    ...(input.trialDays !== undefined ? { trialDays: input.trialDays } : {}),
    ...(input.trialRequiresCard !== undefined ? { trialRequiresCard: input.trialRequiresCard } : {}),
  };
}

function checkRules(input: PackageInput, active: boolean, sortOrder: number): void {
  const view = toPackageView({
    trialDays: null,
    trialRequiresCard: true,
    ...rowData(input),
    id: "",
    active,
    sortOrder,
    stripePriceId: null,
    stripeProductId: null,
    createdAt: new Date(0),
    updatedAt: new Date(0),
  } satisfies SubscriptionPlan);
  const [issue] = [
    ...validatePlan(toPlanDefinition(view)),
    ...validateTrial(input),
    ...validateCurrencyPrices(
      { currency: view.monthlyPrice.currency, chargesOverage: view.overagePricePerMinute !== null },
      input.prices ?? {},
    ),
  ];
  if (issue) throw new AppError("BAD_REQUEST", issue.message, FIELD_OF[issue.field] ?? issue.field);
}

async function assertNameFree(tx: Prisma.TransactionClient, name: string, exceptId?: string): Promise<void> {
  const clash = await tx.subscriptionPlan.findFirst({
    where: { name: { equals: name, mode: "insensitive" }, ...(exceptId ? { id: { not: exceptId } } : {}) },
    select: { id: true },
  });
  if (clash) throw new AppError("CONFLICT", `A package named "${name}" already exists`, "name");
}

/** At most one package is recommended: recommending one takes the badge from the others (audited). */
async function clearOtherRecommended(
  tx: Prisma.TransactionClient,
  actor: Viewer,
  keepId: string,
  at: Date,
): Promise<void> {
  const others = await tx.subscriptionPlan.findMany({ where: { recommended: true, id: { not: keepId } } });
  for (const other of others) {
    const after = await tx.subscriptionPlan.update({ where: { id: other.id }, data: { recommended: false } });
    await writeAudit(
      tx,
      actor,
      { action: "package.update", entityType: "package", entityId: other.id, before: other, after },
      at,
    );
  }
}

export interface PackageChangeResult {
  package: PackageView;
  /** Set when the change was saved but Stripe could not be reached; retry with packages.sync. */
  syncError: string | null;
}

/**
 * Runs a catalog object's sync to Stripe after its change was saved: null when it succeeded, else why it
 * failed (the change stays saved; the admin app offers a retry). Packages, coupons and codes share it.
 */
export async function syncErrorOf(sync: () => Promise<unknown>): Promise<string | null> {
  try {
    await sync();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

async function saveThenSync(ports: Ports, planId: string): Promise<PackageChangeResult> {
  const syncError = await syncErrorOf(() => syncPackageToStripe(ports, planId));
  const row = await ports.db.subscriptionPlan.findUniqueOrThrow({
    where: { id: planId },
    include: WITH_CURRENCY_PRICES,
  });
  return { package: toPackageView(row), syncError };
}

export async function createPackage(
  ports: Ports,
  actor: Viewer,
  input: PackageInput,
): Promise<PackageChangeResult> {
  checkRules(input, true, 0);
  const at = ports.clock.now();
  const plan = await ports.db.$transaction(async (tx) => {
    await tx.$executeRaw(CATALOG_LOCK);
    await assertNameFree(tx, input.name);
    const last = await tx.subscriptionPlan.aggregate({ _max: { sortOrder: true } });
    const created = await tx.subscriptionPlan.create({
      data: { ...rowData(input), active: true, sortOrder: (last._max.sortOrder ?? 0) + 1 },
    });
    await writeCurrencyPrices(tx, created, input.prices ?? {});
    if (created.recommended) await clearOtherRecommended(tx, actor, created.id, at);
    await writeAudit(
      tx,
      actor,
      {
        action: "package.create",
        entityType: "package",
        entityId: created.id,
        after: await withCurrencyPrices(tx, created.id),
      },
      at,
    );
    return created;
  });
  return await saveThenSync(ports, plan.id);
}

/** The package row with its prices per currency, as the audit log records it. */
async function withCurrencyPrices(tx: Prisma.TransactionClient, id: string): Promise<PlanRow> {
  return await tx.subscriptionPlan.findUniqueOrThrow({
    where: { id },
    include: { currencyPrices: { orderBy: { currency: "asc" } } },
  });
}

async function loadForChange(tx: Prisma.TransactionClient, id: string): Promise<PlanRow> {
  await tx.$executeRaw(CATALOG_LOCK);
  const plan = await tx.subscriptionPlan.findUnique({
    where: { id },
    include: { currencyPrices: { orderBy: { currency: "asc" } } },
  });
  if (!plan) throw new AppError("NOT_FOUND", "No such package", "id");
  return plan;
}

export async function updatePackage(
  ports: Ports,
  actor: Viewer,
  id: string,
  input: PackageInput,
): Promise<PackageChangeResult> {
  const at = ports.clock.now();
  await ports.db.$transaction(async (tx) => {
    const before = await loadForChange(tx, id);
    checkRules(input, before.active, before.sortOrder);
    await assertNameFree(tx, input.name, id);
    if (before.currency !== input.currency && (await tx.planPrice.count({ where: { planId: id } })) > 0) {
      throw new AppError(
        "BAD_REQUEST",
        "The currency of a package cannot change once it has a price; create a new package instead",
        "currency",
      );
    }
    const updated = await tx.subscriptionPlan.update({ where: { id }, data: rowData(input) });
    await writeCurrencyPrices(tx, updated, input.prices, before.currency);
    if (updated.recommended) await clearOtherRecommended(tx, actor, id, at);
    const after = await withCurrencyPrices(tx, id);
    await writeAudit(
      tx,
      actor,
      { action: "package.update", entityType: "package", entityId: id, before, after },
      at,
    );
  });
  return await saveThenSync(ports, id);
}

export async function setPackageActive(
  ports: Ports,
  actor: Viewer,
  id: string,
  active: boolean,
): Promise<PackageChangeResult> {
  const at = ports.clock.now();
  await ports.db.$transaction(async (tx) => {
    const before = await loadForChange(tx, id);
    if (before.active === active) return;
    // An archived package cannot carry the "Recommended" badge.
    await tx.subscriptionPlan.update({
      where: { id },
      data: { active, ...(active ? {} : { recommended: false }) },
    });
    // Before and after alike with the prices per currency, so the entry shows only what changed.
    const after = await withCurrencyPrices(tx, id);
    await writeAudit(
      tx,
      actor,
      {
        action: active ? "package.unarchive" : "package.archive",
        entityType: "package",
        entityId: id,
        before,
        after,
      },
      at,
    );
  });
  return await saveThenSync(ports, id);
}

/** Puts packages in the given order (the ids of every package, first to last). */
export async function reorderPackages(ports: Ports, actor: Viewer, ids: string[]): Promise<PackageView[]> {
  const at = ports.clock.now();
  return await ports.db.$transaction(async (tx) => {
    await tx.$executeRaw(CATALOG_LOCK);
    const rows = await tx.subscriptionPlan.findMany({ orderBy: [{ sortOrder: "asc" }, { name: "asc" }] });
    const known = new Set(rows.map((r) => r.id));
    if (ids.length !== rows.length || new Set(ids).size !== ids.length || ids.some((i) => !known.has(i))) {
      throw new AppError("BAD_REQUEST", "List every package exactly once", "ids");
    }
    for (const [index, id] of ids.entries()) {
      await tx.subscriptionPlan.update({ where: { id }, data: { sortOrder: index + 1 } });
    }
    await writeAudit(
      tx,
      actor,
      {
        action: "package.reorder",
        entityType: "catalog",
        entityId: "packages",
        before: rows.map((r) => r.id),
        after: ids,
      },
      at,
    );
    const ordered = await tx.subscriptionPlan.findMany({
      orderBy: [{ sortOrder: "asc" }, { name: "asc" }],
      include: WITH_CURRENCY_PRICES,
    });
    return ordered.map(toPackageView);
  });
}

/**
 * Makes Stripe match the package: a product (created once), its name/description/active flag, and a
 * current monthly price equal to the package's price (a new Stripe price when it changed). Idempotent:
 * the idempotency keys are derived from the package and the price point, so retries create nothing twice.
 */
export async function syncPackageToStripe(ports: Ports, planId: string): Promise<void> {
  const plan = await ports.db.subscriptionPlan.findUnique({ where: { id: planId } });
  if (!plan) throw new AppError("NOT_FOUND", "No package has this id.", "id");
  let productId = plan.stripeProductId;
  if (!productId) {
    ({ productId } = await ports.billing.createProduct({
      name: plan.name,
      description: plan.description,
      planId: plan.id,
      idempotencyKey: `minutely-plan-${plan.id}-product`,
    }));
    await ports.db.subscriptionPlan.update({ where: { id: plan.id }, data: { stripeProductId: productId } });
  }
  await ports.billing.updateProduct(productId, {
    name: plan.name,
    description: plan.description,
    active: plan.active,
  });

  // The package's own price is its row's (the row of its own currency repeats it): a package made before its
  // prices per currency were written, or changed by hand, gets that row made to match.
  const own = toPackageView(plan).monthlyPrice.currency;
  const ownAmounts = {
    amountCents: plan.monthlyPriceCents,
    overagePriceCentsPerMinute: plan.overagePriceCentsPerMinute,
  };
  const ownRow = await ports.db.subscriptionPlanPrice.findUnique({
    where: { planId_currency: { planId, currency: own } },
  });
  if (
    !ownRow ||
    ownRow.amountCents !== ownAmounts.amountCents ||
    ownRow.overagePriceCentsPerMinute !== ownAmounts.overagePriceCentsPerMinute
  ) {
    await ports.db.subscriptionPlanPrice.upsert({
      where: { planId_currency: { planId, currency: own } },
      create: { planId, currency: own, ...ownAmounts },
      update: {
        ...ownAmounts,
        ...(ownRow?.amountCents !== ownAmounts.amountCents ? { stripePriceId: null } : {}),
      },
    });
  }
  const rows = await ports.db.subscriptionPlanPrice.findMany({
    where: { planId },
    orderBy: { currency: "asc" },
  });
  for (const row of rows) {
    await syncCurrencyPrice(ports, { id: plan.id, productId, ownCurrency: own }, row);
  }
  await retireRemovedCurrencies(ports, plan.id, rows);
}

/**
 * A currency the package no longer has a price in (an admin removed it; no live subscription bills in it):
 * the Checkout pages still open that would subscribe to it in that currency are expired, so none can be paid
 * into a subscription at a price the package no longer sells at, and its Stripe price stops being current
 * (the package counts as synced only then; a failure is retried by the next sync, at start-up too). The
 * Stripe price stays for the subscriptions it charged. Subscribe checks the currency's price again once its
 * page is open, which covers a page opened while the removal was being saved.
 */
async function retireRemovedCurrencies(
  ports: Ports,
  planId: string,
  rows: readonly SubscriptionPlanPrice[],
): Promise<void> {
  const sold = new Set(rows.map((r) => r.currency.trim().toLowerCase()));
  const current = await ports.db.planPrice.findMany({ where: { planId, current: true } });
  for (const price of current) {
    const currency = price.currency.trim().toLowerCase();
    if (sold.has(currency)) continue;
    await ports.billing.expirePackageCheckoutsIn(
      planId,
      currency,
      `minutely-plan-${planId}-retire-${price.stripePriceId}`,
    );
    await ports.db.planPrice.update({ where: { id: price.id }, data: { current: false } });
  }
}

/**
 * Makes one currency's price of the package current in Stripe: the package's current Stripe price in that
 * currency when its amount matches, else a new one (the older ones stay for their subscribers). The
 * package row's own stripePriceId follows its own currency's.
 */
async function syncCurrencyPrice(
  ports: Ports,
  plan: { id: string; productId: string; ownCurrency: Currency },
  row: SubscriptionPlanPrice,
): Promise<void> {
  const currency = row.currency as Currency;
  const current = await ports.db.planPrice.findFirst({ where: { planId: plan.id, currency, current: true } });
  let priceId: string;
  if (current && current.amountCents === row.amountCents) {
    priceId = current.stripePriceId;
  } else {
    ({ priceId } = await ports.billing.createMonthlyPrice({
      productId: plan.productId,
      amountCents: row.amountCents,
      currency,
      planId: plan.id,
      idempotencyKey: `minutely-plan-${plan.id}-price-${row.amountCents}-${currency}`,
    }));
  }
  await ports.db.$transaction(async (tx) => {
    if (current?.stripePriceId !== priceId) {
      await tx.planPrice.updateMany({
        where: { planId: plan.id, currency, current: true },
        data: { current: false },
      });
      await tx.planPrice.upsert({
        where: { stripePriceId: priceId },
        create: {
          planId: plan.id,
          stripePriceId: priceId,
          amountCents: row.amountCents,
          currency,
          current: true,
        },
        update: { current: true },
      });
    }
    // Only while the row still has the amount this price was made for (an admin may have changed it since).
    await tx.subscriptionPlanPrice.updateMany({
      where: { id: row.id, amountCents: row.amountCents },
      data: { stripePriceId: priceId },
    });
    if (currency === plan.ownCurrency) {
      await tx.subscriptionPlan.updateMany({
        where: { id: plan.id, currency, monthlyPriceCents: row.amountCents },
        data: { stripePriceId: priceId },
      });
    }
  });
}

/** Syncs every package that has no Stripe price yet or whose price changed (start-up, retries). */
export async function syncCatalogToStripe(
  ports: Ports,
): Promise<{ synced: number; failed: string[]; errors: unknown[] }> {
  const plans = await ports.db.subscriptionPlan.findMany({
    include: { prices: { where: { current: true } }, currencyPrices: true },
  });
  const stale = plans.filter((p) => !isSynced(p));
  const failed: string[] = [];
  const errors: unknown[] = [];
  for (const plan of stale) {
    try {
      await syncPackageToStripe(ports, plan.id);
    } catch (error) {
      failed.push(plan.name);
      errors.push(error);
    }
  }
  return { synced: stale.length - failed.length, failed, errors };
}

/**
 * Whether Stripe has the package as it is: a product, and a current Stripe price of the right amount for
 * its own price and for each of its prices per currency.
 */
function isSynced(
  plan: SubscriptionPlan & { prices: readonly PlanPrice[]; currencyPrices: readonly SubscriptionPlanPrice[] },
): boolean {
  const currentIn = (currency: string) => plan.prices.find((p) => p.current && p.currency === currency);
  const own = currentIn(plan.currency);
  return (
    Boolean(plan.stripeProductId) &&
    // A currency removed is retired (its open Checkout pages expired) before the package counts as synced.
    plan.prices.every((p) => !p.current || plan.currencyPrices.some((r) => r.currency === p.currency)) &&
    own !== undefined &&
    own.amountCents === plan.monthlyPriceCents &&
    plan.stripePriceId === own.stripePriceId &&
    plan.currencyPrices.some(
      (r) =>
        r.currency === plan.currency &&
        r.amountCents === plan.monthlyPriceCents &&
        r.overagePriceCentsPerMinute === plan.overagePriceCentsPerMinute,
    ) &&
    plan.currencyPrices.every((r) => {
      const current = currentIn(r.currency);
      return (
        current !== undefined &&
        current.amountCents === r.amountCents &&
        r.stripePriceId === current.stripePriceId
      );
    })
  );
}

export interface AdminPackageView extends PackageView {
  stripeProductId: string | null;
  stripePriceId: string | null;
  synced: boolean;
  /** Each Stripe price the package has had, with how many live subscriptions are on it. */
  prices: {
    stripePriceId: string;
    amountCents: number;
    currency: string;
    current: boolean;
    subscribers: number;
    createdAt: Date;
  }[];
  subscribers: number;
}

const LIVE_STATUSES = ["active", "trialing", "past_due", "unpaid", "incomplete", "paused"] as const;

export async function listPackagesForAdmin({ db }: Pick<Ports, "db">): Promise<AdminPackageView[]> {
  const [plans, counts] = await Promise.all([
    db.subscriptionPlan.findMany({
      orderBy: [{ sortOrder: "asc" }, { name: "asc" }],
      include: { prices: { orderBy: { createdAt: "desc" } }, currencyPrices: true },
    }),
    db.subscription.groupBy({
      by: ["stripePriceId"],
      where: { status: { in: [...LIVE_STATUSES] } },
      _count: { _all: true },
    }),
  ]);
  const byPrice = new Map(counts.map((c) => [c.stripePriceId, c._count._all]));
  return plans.map((plan) => {
    const prices = plan.prices.map((p) => ({
      stripePriceId: p.stripePriceId,
      amountCents: p.amountCents,
      currency: p.currency,
      current: p.current,
      subscribers: byPrice.get(p.stripePriceId) ?? 0,
      createdAt: p.createdAt,
    }));
    return {
      ...toPackageView(plan),
      stripeProductId: plan.stripeProductId,
      stripePriceId: plan.stripePriceId,
      synced: isSynced(plan),
      prices,
      subscribers: prices.reduce((sum, p) => sum + p.subscribers, 0),
    };
  });
}
