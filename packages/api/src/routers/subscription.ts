import { CURRENCIES, type Currency } from "@minutely/domain";
import { z } from "zod";
import { withRequestKey, ZRequestKeyOnlySchema, ZRequestKeySchema } from "../idempotency.ts";
import { creditsOf, taxDetailsOf } from "../services/billing/index.ts";
import { checkPromotionCode, ZTypedCodeSchema } from "../services/catalog/index.ts";
import {
  billingHistory,
  cancel,
  cancelScheduledChange,
  completeCheckout,
  downgrade,
  invoiceOf,
  pauseSubscription,
  previewUpgrade,
  resume,
  resumePausedSubscription,
  startPaymentMethodUpdate,
  subscribe,
  subscriptionOverviewWithDiscount,
  TAX_ID_TYPES,
  updateTaxDetails,
  upgrade,
} from "../services/subscriptions/index.ts";
import { accountProcedure, idempotent, router, ZNoInputRequestSchema } from "../trpc.ts";
import { ZInstantSchema } from "./dates.ts";

const packageId = z.uuid("Choose a package");
export const ZSubscribeRequestSchema = z.strictObject({
  packageId,
  paymentMethodId: z
    .string()
    .regex(/^pm_\w+$/, "Use a Stripe payment method id such as pm_card_visa")
    // Stripe's ids are about 27 characters; the id is part of Stripe idempotency keys (at most 255).
    .max(64, "Use a Stripe payment method id (at most 64 characters)")
    .optional(),
  /** A promotion code (any case); refused with a 400 naming promotionCode and why (expired, …). */
  promotionCode: ZTypedCodeSchema.optional(),
  /**
   * The currency to buy in; absent: the account's billing currency, else the package's own. Another than the
   * account's (fixed at its first purchase), or one the package is not sold in: 409 naming currency.
   */
  currency: z.enum(CURRENCIES as [Currency, ...Currency[]], { error: "Use one of usd, eur, gbp" }).optional(),
  /** Also the base of the Stripe idempotency keys, so a lost answer between Stripe and here is safe too. */
  requestKey: ZRequestKeySchema,
});
export const ZUpgradeRequestSchema = withRequestKey(
  z.strictObject({
    packageId,
    prorationDate: ZInstantSchema,
    /** The preview's totalDueNowCents the customer confirmed: another total now is a 409 (tax changed). */
    expectedTotalCents: z
      .number({ error: "must be the previewed total in minor units" })
      .int("must be a whole number of minor units")
      .min(0, "must be at least 0")
      .max(Number.MAX_SAFE_INTEGER, "is too large")
      .optional(),
  }),
);
export const ZDowngradeRequestSchema = withRequestKey(
  z.strictObject({
    packageId,
    keepAgentIds: z.array(z.uuid()).max(1000).optional(),
  }),
);

/** How many billing periods a pause lasts (1-3), or null: until resumed. */
export const ZPausePeriodsSchema = z
  .union([z.literal(1), z.literal(2), z.literal(3)], { error: "must be 1, 2 or 3 billing periods, or null" })
  .nullable();
export const ZPauseRequestSchema = withRequestKey(z.strictObject({ periods: ZPausePeriodsSchema }));

const addressLine = (max: number) => z.string().max(max, `At most ${max} characters`).nullable();
/** A billing address: the country always; in the US and Canada the state and postal code (domain rules). */
export const ZBillingAddressSchema = z.strictObject({
  country: z.string().max(2, "Use the two-letter country code (e.g. DE)"),
  line1: addressLine(200),
  line2: addressLine(200),
  city: addressLine(100),
  state: addressLine(100),
  postalCode: addressLine(20),
});
export const ZTaxIdSchema = z.strictObject({
  type: z.enum(TAX_ID_TYPES, { error: `Use one of ${TAX_ID_TYPES.join(", ")}` }),
  value: z.string().max(40, "At most 40 characters"),
});
export const ZTaxDetailsRequestSchema = z.strictObject({
  address: ZBillingAddressSchema,
  /** null: no tax ID (removes one set before). */
  taxId: ZTaxIdSchema.nullable(),
  requestKey: ZRequestKeySchema.unwrap(),
});

const accountOf = (ctx: {
  accountId: string;
  viewer: { email: string; name: string; emailVerified?: boolean | undefined };
}) => ({
  accountId: ctx.accountId,
  email: ctx.viewer.email,
  name: ctx.viewer.name,
  emailVerified: ctx.viewer.emailVerified,
});

export const subscriptionRouter = router({
  overview: accountProcedure
    .input(ZNoInputRequestSchema)
    .query(({ ctx }) => subscriptionOverviewWithDiscount(ctx, ctx.accountId)),
  subscribe: accountProcedure
    .input(ZSubscribeRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => subscribe(ctx, accountOf(ctx), input)),
  /** The billing address and tax ID on invoices (held by Stripe), and whether tax can be computed. */
  taxDetails: accountProcedure
    .input(ZNoInputRequestSchema)
    .query(({ ctx }) => taxDetailsOf(ctx, ctx.accountId)),
  /** Sets the billing address and tax ID on the Stripe customer; 400 naming the field when wrong. */
  updateTaxDetails: accountProcedure
    .input(ZTaxDetailsRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => updateTaxDetails(ctx, accountOf(ctx), input)),
  completeCheckout: accountProcedure
    .input(
      withRequestKey(
        z.strictObject({ sessionId: z.string().regex(/^cs_\w+$/, "Not a checkout session id") }),
      ),
    )
    .use(idempotent())
    .mutation(({ ctx, input }) => completeCheckout(ctx, ctx.accountId, input.sessionId)),
  /**
   * Whether a typed code discounts a package, with the discounted price, or why not (`invalid`, `inactive`,
   * `expired`, `exhausted`, `not_applicable`). The package page asks before Checkout; subscribe checks again.
   */
  checkPromotionCode: accountProcedure
    .input(
      z.strictObject({
        packageId,
        code: ZTypedCodeSchema,
        /** The currency the purchase would be made in (absent: the package's own). */
        currency: z
          .enum(CURRENCIES as [Currency, ...Currency[]], { error: "Use one of usd, eur, gbp" })
          .optional(),
      }),
    )
    .query(({ ctx, input }) => checkPromotionCode(ctx, input)),
  previewUpgrade: accountProcedure
    .input(z.strictObject({ packageId }))
    .query(({ ctx, input }) => previewUpgrade(ctx, ctx.accountId, input.packageId)),
  upgrade: accountProcedure
    .input(ZUpgradeRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => upgrade(ctx, accountOf(ctx), input)),
  downgrade: accountProcedure
    .input(ZDowngradeRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => downgrade(ctx, accountOf(ctx), input)),
  cancelScheduledChange: accountProcedure
    .input(ZRequestKeyOnlySchema)
    .use(idempotent())
    .mutation(({ ctx }) => cancelScheduledChange(ctx, accountOf(ctx))),
  cancel: accountProcedure
    .input(ZRequestKeyOnlySchema)
    .use(idempotent())
    .mutation(({ ctx }) => cancel(ctx, accountOf(ctx))),
  resume: accountProcedure
    .input(ZRequestKeyOnlySchema)
    .use(idempotent())
    .mutation(({ ctx }) => resume(ctx, accountOf(ctx))),
  /** Pauses for 1-3 billing periods (or until resumed) from the end of the period paid. */
  pause: accountProcedure
    .input(ZPauseRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => pauseSubscription(ctx, ctx.accountId, input.periods)),
  /** Ends the pause now. */
  resumePause: accountProcedure
    .input(ZRequestKeyOnlySchema)
    .use(idempotent())
    .mutation(({ ctx }) => resumePausedSubscription(ctx, ctx.accountId)),
  /** Hosted Checkout (setup mode) to replace a card after a failed payment. */
  updatePaymentMethod: accountProcedure
    .input(z.strictObject({ requestKey: ZRequestKeySchema.unwrap() }))
    .use(idempotent())
    .mutation(({ ctx, input }) => startPaymentMethodUpdate(ctx, accountOf(ctx), input.requestKey)),
  invoices: accountProcedure
    .input(ZNoInputRequestSchema)
    .query(({ ctx }) => billingHistory(ctx, ctx.accountId)),
  /** One of the account's invoices with its hosted page, PDF and what was given back (404 for another's). */
  invoice: accountProcedure
    .input(z.strictObject({ invoiceId: z.uuid("Not an invoice id") }))
    .query(({ ctx, input }) => invoiceOf(ctx, ctx.accountId, input.invoiceId)),
  /** Refunds and credits given to the account (invoice refunds, credit notes, balance credits), newest first. */
  credits: accountProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => creditsOf(ctx, ctx.accountId)),
});
