// The seed contract: the REST shapes of the seed brief (/api/subscriptions/*, /api/dashboard/comprehensive/),
// snake_case with money in major units, declared once here and mapped from the services' camelCase types.
// Its routes are tagged "(seed contract)" in the OpenAPI document.
import { type AdminPackageView, type PackageView, type subscriptions, toPlanDefinition } from "@minutely/api";
import { buildFeatureComparison, type Money, toMajorUnits } from "@minutely/domain";
import { z } from "zod";

export const MAJOR_UNITS = "In major units (dollars), as in the seed's contract";

const ZDateTimeSchema = z.iso.datetime();

const major = (m: Money) => toMajorUnits(m);

export const ZSeedContractPackageSchema = z.object({
  id: z.uuid(),
  package_name: z.string(),
  description: z.string(),
  monthly_price: z.number().meta({ description: MAJOR_UNITS }),
  currency: z.string(),
  call_minutes_limit: z.number().int(),
  agents_allowed: z.number().int(),
  analytics_access: z.boolean(),
  api_access: z.boolean(),
  overage_price_per_minute: z.number().nullable(),
  recommended: z.boolean(),
  trial: z
    .object({ days: z.number().int(), requires_card: z.boolean() })
    .nullable()
    .meta({ description: "The free trial new subscribers get (one per account, ever), or null" }),
});

function toSeedContractPackage(p: PackageView): z.input<typeof ZSeedContractPackageSchema> {
  return {
    id: p.id,
    package_name: p.name,
    description: p.description,
    monthly_price: major(p.monthlyPrice),
    currency: p.monthlyPrice.currency,
    call_minutes_limit: p.callMinutesLimit,
    agents_allowed: p.agentsAllowed,
    analytics_access: p.features.analytics,
    api_access: p.features.apiAccess,
    overage_price_per_minute: p.overagePricePerMinute ? major(p.overagePricePerMinute) : null,
    recommended: p.recommended,
    trial: p.trial ? { days: p.trial.days, requires_card: p.trial.requiresCard } : null,
  };
}

export const ZSeedContractUserPackagesSchema = z.object({
  available_packages: z.array(ZSeedContractPackageSchema),
  feature_comparison: z.object({
    features: z.array(z.string()),
    packages: z.record(z.string(), z.array(z.string())),
  }),
  user_needs_package_selection: z.boolean(),
  current_package_id: z.string().nullable(),
  billing_currency: z
    .string()
    .nullable()
    .meta({ description: "The account's billing currency, fixed at its first purchase; null before it" }),
  currency: z.string().nullable().meta({
    description: "The currency the prices are in (billing, else the one asked for); null: each its own",
  }),
});

/** GET /api/subscriptions/user/packages/ from the service's package selection. */
export function toSeedContractUserPackages(selection: {
  packages: PackageView[];
  needsPackageSelection: boolean;
  currentPackageId: string | null;
  billingCurrency: string | null;
  currency: string | null;
}): z.input<typeof ZSeedContractUserPackagesSchema> {
  return {
    available_packages: selection.packages.map(toSeedContractPackage),
    feature_comparison: buildFeatureComparison(selection.packages.map(toPlanDefinition)),
    user_needs_package_selection: selection.needsPackageSelection,
    current_package_id: selection.currentPackageId,
    billing_currency: selection.billingCurrency,
    currency: selection.currency,
  };
}

export const ZSeedContractAdminPackageSchema = ZSeedContractPackageSchema.extend({
  monthly_price_cents: z.number().int(),
  overage_price_cents_per_minute: z.number().int().nullable(),
  active: z.boolean(),
  sort_order: z.number().int(),
  stripe_product_id: z.string().nullable(),
  stripe_price_id: z.string().nullable(),
  subscribers: z.number().int(),
  prices: z.array(
    z.object({
      stripe_price_id: z.string(),
      amount_cents: z.number().int(),
      currency: z.string(),
      current: z.boolean(),
      subscribers: z.number().int(),
    }),
  ),
});

/** One package of GET /api/subscriptions/admin/packages/: every field. */
export function toSeedContractAdminPackage(
  p: AdminPackageView,
): z.input<typeof ZSeedContractAdminPackageSchema> {
  return {
    ...toSeedContractPackage(p),
    monthly_price_cents: p.monthlyPrice.amount,
    overage_price_cents_per_minute: p.overagePricePerMinute?.amount ?? null,
    active: p.active,
    sort_order: p.sortOrder,
    stripe_product_id: p.stripeProductId,
    stripe_price_id: p.stripePriceId,
    subscribers: p.subscribers,
    prices: p.prices.map((price) => ({
      stripe_price_id: price.stripePriceId,
      amount_cents: price.amountCents,
      currency: price.currency,
      current: price.current,
      subscribers: price.subscribers,
    })),
  };
}

/** The subscription as the seed contract shows it (the dashboard; the actions answer its core fields). */
export const ZSeedContractSubscriptionSchema = z.object({
  status: z
    .string()
    .meta({ description: "Stripe's subscription status, or none when the account never subscribed" }),
  status_label: z.string(),
  grants_access: z.boolean(),
  needs_payment_attention: z.boolean().meta({ description: "past_due, unpaid or incomplete" }),
  package_id: z.string().nullable(),
  package_name: z.string().nullable(),
  monthly_price: z.number().nullable().meta({ description: MAJOR_UNITS }),
  currency: z.string().nullable(),
  current_period_start: ZDateTimeSchema.nullable(),
  current_period_end: ZDateTimeSchema.nullable(),
  cancel_at_period_end: z.boolean(),
  scheduled_change: z
    .object({ package_id: z.string(), package_name: z.string(), effective_at: ZDateTimeSchema })
    .nullable()
    .meta({ description: "A downgrade scheduled for the end of the period" }),
  pause: z
    .object({ starts_at: ZDateTimeSchema, resumes_at: ZDateTimeSchema.nullable(), paused: z.boolean() })
    .nullable()
    .meta({
      description:
        "The collection pause: from starts_at (the end of the period paid) calls are denied " +
        "(subscription_paused) and nothing is charged until resumes_at (null: until resumed); paused: in effect",
    }),
  trial: z
    .object({
      started_at: ZDateTimeSchema.nullable(),
      ends_at: ZDateTimeSchema,
      ending_soon: z.boolean(),
      card_on_file: z.boolean(),
    })
    .nullable()
    .meta({
      description:
        "The free trial while the status is trialing: outbound calls stop at the included minutes " +
        "(trial_allowance_reached) and no overage is billed; ending_soon: 3 days or less left; card_on_file: " +
        "whether the trial converts at its end (without a card the subscription pauses until one is added)",
    }),
});

export function toSeedContractSubscription(
  sub: subscriptions.SubscriptionOverview,
): z.input<typeof ZSeedContractSubscriptionSchema> {
  return {
    status: sub.status,
    status_label: sub.statusLabel,
    grants_access: sub.grantsAccess,
    needs_payment_attention: sub.needsPaymentAttention,
    package_id: sub.package?.id ?? null,
    package_name: sub.package?.name ?? null,
    monthly_price: sub.package ? major(sub.package.monthlyPrice) : null,
    currency: sub.package?.monthlyPrice.currency ?? null,
    current_period_start: sub.currentPeriodStart?.toISOString() ?? null,
    current_period_end: sub.currentPeriodEnd?.toISOString() ?? null,
    cancel_at_period_end: sub.cancelAtPeriodEnd,
    scheduled_change: sub.scheduledChange
      ? {
          package_id: sub.scheduledChange.packageId,
          package_name: sub.scheduledChange.packageName,
          effective_at: sub.scheduledChange.effectiveAt.toISOString(),
        }
      : null,
    pause: sub.pause
      ? {
          starts_at: sub.pause.startsAt.toISOString(),
          resumes_at: sub.pause.resumesAt?.toISOString() ?? null,
          paused: sub.pause.paused,
        }
      : null,
    trial: sub.trial
      ? {
          started_at: sub.trial.startedAt?.toISOString() ?? null,
          ends_at: sub.trial.endsAt.toISOString(),
          ending_soon: sub.trial.endingSoon,
          card_on_file: sub.trial.cardOnFile,
        }
      : null,
  };
}
