// Admins manage the package catalog. Every change is validated (zod for shapes, packages/domain for the
// business rules), written with its audit entry in one transaction, then synced to Stripe: a product per
// package and a monthly price per price point. Prices are immutable, so a price change adds a new price;
// subscribers stay on theirs until they change plan.
import { type Prisma, type SubscriptionPlan, transactionLock } from "@minutely/db";
import {
  type Currency,
  isCurrency,
  PACKAGE_LIMITS,
  type PackageNumberField,
  PLAN_DESCRIPTION_MAX_LENGTH,
  PLAN_NAME_MAX_LENGTH,
  packageNumberMessage,
  TRIAL_LIMITS,
  validatePlan,
  validateTrial,
} from "@minutely/domain";
import { z } from "zod";
import type { Ports, Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { writeAudit } from "../audit.ts";
import { type PackageView, toPackageView, toPlanDefinition } from "./packages.ts";

/** A package number in its range (PACKAGE_LIMITS), refused in the words the admin form uses too. */
function packageNumber(field: PackageNumberField) {
  const { min, max } = PACKAGE_LIMITS[field];
  return z
    .number()
    .int(packageNumberMessage(field, "fraction"))
    .min(min, packageNumberMessage(field, "below"))
    .max(max, packageNumberMessage(field, "above"));
}

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
  const [issue] = [...validatePlan(toPlanDefinition(view)), ...validateTrial(input)];
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
  const row = await ports.db.subscriptionPlan.findUniqueOrThrow({ where: { id: planId } });
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
    if (created.recommended) await clearOtherRecommended(tx, actor, created.id, at);
    await writeAudit(
      tx,
      actor,
      { action: "package.create", entityType: "package", entityId: created.id, after: created },
      at,
    );
    return created;
  });
  return await saveThenSync(ports, plan.id);
}

async function loadForChange(tx: Prisma.TransactionClient, id: string): Promise<SubscriptionPlan> {
  await tx.$executeRaw(CATALOG_LOCK);
  const plan = await tx.subscriptionPlan.findUnique({ where: { id } });
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
    const after = await tx.subscriptionPlan.update({ where: { id }, data: rowData(input) });
    if (after.recommended) await clearOtherRecommended(tx, actor, id, at);
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
    const after = await tx.subscriptionPlan.update({
      where: { id },
      data: { active, ...(active ? {} : { recommended: false }) },
    });
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
    const ordered = await tx.subscriptionPlan.findMany({ orderBy: [{ sortOrder: "asc" }, { name: "asc" }] });
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

  const current = await ports.db.planPrice.findFirst({ where: { planId: plan.id, current: true } });
  const currency = toPackageView(plan).monthlyPrice.currency;
  if (current && current.amountCents === plan.monthlyPriceCents && current.currency === currency) {
    if (plan.stripePriceId !== current.stripePriceId) {
      await ports.db.subscriptionPlan.update({
        where: { id: plan.id },
        data: { stripePriceId: current.stripePriceId },
      });
    }
    return;
  }
  const { priceId } = await ports.billing.createMonthlyPrice({
    productId,
    amountCents: plan.monthlyPriceCents,
    currency,
    planId: plan.id,
    idempotencyKey: `minutely-plan-${plan.id}-price-${plan.monthlyPriceCents}-${currency}`,
  });
  await ports.db.$transaction(async (tx) => {
    await tx.planPrice.updateMany({ where: { planId: plan.id, current: true }, data: { current: false } });
    await tx.planPrice.upsert({
      where: { stripePriceId: priceId },
      create: {
        planId: plan.id,
        stripePriceId: priceId,
        amountCents: plan.monthlyPriceCents,
        currency,
        current: true,
      },
      update: { current: true },
    });
    await tx.subscriptionPlan.update({ where: { id: plan.id }, data: { stripePriceId: priceId } });
  });
}

/** Syncs every package that has no Stripe price yet or whose price changed (start-up, retries). */
export async function syncCatalogToStripe(
  ports: Ports,
): Promise<{ synced: number; failed: string[]; errors: unknown[] }> {
  const plans = await ports.db.subscriptionPlan.findMany({
    include: { prices: { where: { current: true } } },
  });
  const stale = plans.filter((p) => {
    const price = p.prices[0];
    return (
      !p.stripeProductId ||
      !price ||
      price.amountCents !== p.monthlyPriceCents ||
      price.currency !== p.currency
    );
  });
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
      include: { prices: { orderBy: { createdAt: "desc" } } },
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
    const current = plan.prices.find((p) => p.current);
    return {
      ...toPackageView(plan),
      stripeProductId: plan.stripeProductId,
      stripePriceId: plan.stripePriceId,
      synced: Boolean(plan.stripeProductId && current && current.amountCents === plan.monthlyPriceCents),
      prices,
      subscribers: prices.reduce((sum, p) => sum + p.subscribers, 0),
    };
  });
}
